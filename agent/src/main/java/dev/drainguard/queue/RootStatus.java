package dev.drainguard.queue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * The judgement of one queue root at one moment.
 *
 * @param files regular files under the root that count (ignore globs applied)
 * @param bytes their total size
 * @param oldestAge age of the oldest counted file by modification time; empty when none
 * @param error why the root could not be judged (missing, unreadable); empty when it could
 * @param polled why the root is judged by walking it periodically instead of from watch events (the
 *     inotify watch limit); empty when it is watched, or for probes that do not watch
 */
public record RootStatus(
    Path root,
    long files,
    long bytes,
    Optional<Duration> oldestAge,
    Optional<String> error,
    Optional<String> polled) {

  /** A root judged without watching being in question (not polled). */
  public RootStatus(
      Path root, long files, long bytes, Optional<Duration> oldestAge, Optional<String> error) {
    this(root, files, bytes, oldestAge, error, Optional.empty());
  }

  /** Empty under the rules: judged without error and within the residual allowance. */
  public boolean empty(long residualBytes) {
    return error.isEmpty() && (files == 0 || bytes <= residualBytes);
  }
}
