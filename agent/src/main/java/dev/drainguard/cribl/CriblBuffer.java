package dev.drainguard.cribl;

import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One local buffer Cribl's configuration puts on this worker's disk.
 *
 * @param owner {@code output ID (type)} or {@code input ID (type)}
 * @param base the directory Cribl writes under, expanded (pqPath, pq.path, stagePath,
 *     deadletterPath or its default); empty when it cannot be resolved ({@code note} says why)
 * @param below what Cribl appends under {@code base}: {@code <worker-process>/ID}, {@code
 *     <worker-process>/inputs/ID}, {@code ID}, or nothing
 * @param setting the Cribl setting that places it, and where: {@code pqPath of output x
 *     (/opt/cribl/local/cribl/outputs.yml:12)}; {@code (unset: Cribl's default)} when defaulted
 * @param note a fact the operator needs beside the path (disabled, unresolvable, not judgeable)
 */
public record CriblBuffer(
    String owner,
    BufferKind kind,
    Exposure exposure,
    Optional<Path> base,
    String below,
    String setting,
    Optional<String> note) {

  /** What losing the instance with data in this buffer means, and so what drainguard does. */
  public enum Exposure {
    /** Data here is lost at termination and drains by itself: a queue root must cover it. */
    HELD,
    /**
     * Data here is lost at termination, but its files cannot tell whether it has drained: listed
     * and warned about, never a root.
     */
    UNJUDGED,
    /** Listed only: nothing drains it by waiting (dead letters, a disabled source). */
    LISTED
  }

  /** The part of {@code below} that varies per worker process. */
  static final String WORKER = "<worker-process>";

  public CriblBuffer {
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(exposure, "exposure");
    Objects.requireNonNull(base, "base");
    Objects.requireNonNull(below, "below");
    Objects.requireNonNull(setting, "setting");
    Objects.requireNonNull(note, "note");
  }

  /**
   * The deepest directory that holds all of this buffer's files whatever the worker process: the
   * base, plus {@code below} when it names no worker process (a staging directory per output).
   */
  public Optional<Path> watched() {
    if (below.isEmpty() || below.contains(WORKER)) {
      return base;
    }
    return base.map(b -> b.resolve(below));
  }

  /** The whole path as the operator reads it, e.g. {@code /data/pq/<worker-process>/splunk}. */
  public String path() {
    if (base.isEmpty()) {
      return "(path unknown)";
    }
    return below.isEmpty() ? base.get().toString() : base.get() + "/" + below;
  }

  /**
   * The most specific root that holds {@link #watched()} (the root itself or one above it); empty
   * when none does or the path is unresolved.
   */
  public Optional<Path> coveredBy(List<Path> roots) {
    if (watched().isEmpty()) {
      return Optional.empty();
    }
    Path w = watched().get();
    return roots.stream()
        .map(Path::normalize)
        .filter(w::startsWith)
        .max(Comparator.comparingInt(Path::getNameCount));
  }

  /**
   * One line: {@code output splunk (splunk_lb) destination PQ /data/pq/<worker-process>/splunk}.
   */
  public String describe() {
    return owner + " " + kind.label() + " " + path() + note.map(n -> " (" + n + ")").orElse("");
  }
}
