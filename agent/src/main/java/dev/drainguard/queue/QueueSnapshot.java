package dev.drainguard.queue;

import java.time.Instant;
import java.util.List;

/**
 * Every queue root's status at one moment, as one fact for the controller.
 *
 * @param empty true only when every root was judged without error and is within its residual
 *     allowance; a root that cannot be read is never empty
 */
public record QueueSnapshot(Instant takenAt, List<RootStatus> roots, boolean empty) {
  public QueueSnapshot {
    roots = List.copyOf(roots);
  }

  public long totalBytes() {
    return roots.stream().mapToLong(RootStatus::bytes).sum();
  }

  public long totalFiles() {
    return roots.stream().mapToLong(RootStatus::files).sum();
  }

  public boolean anyError() {
    return roots.stream().anyMatch(r -> r.error().isPresent());
  }
}
