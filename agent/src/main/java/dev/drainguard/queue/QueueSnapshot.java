package dev.drainguard.queue;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Every probe's reading at one moment and the verdict over them, as one fact for the controller.
 *
 * @param roots the filesystem probe's view, root by root
 * @param probes every enabled probe's reading, the filesystem probe ({@value ProbeReading#FILES})
 *     first
 * @param empty the verdict of {@code --drained-when} over the probes; a probe that cannot tell is
 *     never empty
 */
public record QueueSnapshot(
    Instant takenAt, List<RootStatus> roots, List<ProbeReading> probes, boolean empty) {

  public QueueSnapshot {
    roots = List.copyOf(roots);
    probes = List.copyOf(probes);
  }

  /** The filesystem probe alone, as the watcher publishes it: {@code empty} is its verdict. */
  public QueueSnapshot(Instant takenAt, List<RootStatus> roots, boolean empty) {
    this(takenAt, roots, List.of(filesReading(takenAt, roots, empty)), empty);
  }

  /** Bytes queued as far as the deciding probes know; a lower bound when one cannot tell. */
  public long totalBytes() {
    return probes.stream().filter(ProbeReading::deciding).mapToLong(ProbeReading::bytes).sum();
  }

  /** Files counted under the queue roots. */
  public long totalFiles() {
    return roots.stream().mapToLong(RootStatus::files).sum();
  }

  /** Whether a deciding probe cannot tell: more may be queued than {@link #totalBytes()}. */
  public boolean anyError() {
    return probes.stream().anyMatch(p -> p.deciding() && p.unknown().isPresent());
  }

  /** Whether every probe reads the same as in {@code other}, times aside. */
  public boolean sameReadings(QueueSnapshot other) {
    if (probes.size() != other.probes.size()) {
      return false;
    }
    for (int i = 0; i < probes.size(); i++) {
      if (!probes.get(i).sameVerdict(other.probes.get(i))) {
        return false;
      }
    }
    return true;
  }

  /** The filesystem probe's reading of {@code roots}: unknown while any root is in error. */
  static ProbeReading filesReading(Instant at, List<RootStatus> roots, boolean empty) {
    List<QueueReading> queues =
        roots.stream()
            .filter(r -> r.error().isEmpty())
            .map(r -> new QueueReading(r.root().toString(), r.bytes()))
            .toList();
    String errors =
        roots.stream().flatMap(r -> r.error().stream()).collect(Collectors.joining("; "));
    Optional<String> unknown = errors.isEmpty() ? Optional.empty() : Optional.of(errors);
    return new ProbeReading(ProbeReading.FILES, at, queues, unknown, empty, true);
  }
}
