package dev.drainguard.queue;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What one probe said at one moment.
 *
 * @param probe the probe's name: {@value #FILES}, {@value CommandProbe#NAME} or {@value
 *     CriblApiProbe#NAME}
 * @param queues the queues it could read, with their bytes
 * @param unknown why it cannot tell (a failed command, a 401, a missing root); present means the
 *     reading is never empty, whatever {@code queues} holds
 * @param empty the probe's own verdict: nothing queued beyond what its rules allow
 * @param deciding whether {@code --drained-when} counts this probe in the drain decision
 */
public record ProbeReading(
    String probe,
    Instant readAt,
    List<QueueReading> queues,
    Optional<String> unknown,
    boolean empty,
    boolean deciding) {

  /** The filesystem watcher's name among the probes. */
  public static final String FILES = "files";

  public ProbeReading {
    queues = List.copyOf(queues);
    if (unknown.isPresent() && empty) {
      throw new IllegalArgumentException("probe " + probe + ": unknown is never empty");
    }
  }

  /** A reading that could be taken: empty when every queue holds 0 bytes. */
  public static ProbeReading known(String probe, Instant at, List<QueueReading> queues) {
    boolean empty = queues.stream().allMatch(q -> q.bytes() == 0);
    return new ProbeReading(probe, at, queues, Optional.empty(), empty, true);
  }

  /** A probe that cannot tell, and why. */
  public static ProbeReading unknown(String probe, Instant at, String why) {
    return new ProbeReading(probe, at, List.of(), Optional.of(why), false, true);
  }

  /** Bytes of every queue it could read; a lower bound when {@link #unknown} is present. */
  public long bytes() {
    return queues.stream().mapToLong(QueueReading::bytes).sum();
  }

  /** The same reading, counted by --drained-when or not. */
  public ProbeReading withDeciding(boolean decides) {
    return decides == deciding
        ? this
        : new ProbeReading(probe, readAt, queues, unknown, empty, decides);
  }

  /** Same verdict and the same bytes per queue: what is worth telling the controller about. */
  boolean sameVerdict(ProbeReading other) {
    return probe.equals(other.probe)
        && queues.equals(other.queues)
        && unknown.equals(other.unknown)
        && empty == other.empty
        && deciding == other.deciding;
  }
}
