package dev.drainguard.queue;

import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * What the watcher knows about one root, without the age: the age depends on when it is asked, so
 * it is computed by {@link #status(Instant)}.
 *
 * @param oldestModified modification time of the oldest counted file; empty when none
 * @param polled why the root is walked periodically instead of watched; empty when it is watched
 */
record RootJudgement(
    Path root,
    long residualBytes,
    long files,
    long bytes,
    Optional<FileTime> oldestModified,
    Optional<String> error,
    Optional<String> polled) {

  static RootJudgement failed(Path root, long residualBytes, String error) {
    return new RootJudgement(
        root, residualBytes, 0, 0, Optional.empty(), Optional.of(error), Optional.empty());
  }

  /** The public status, with {@code oldestAge} measured at {@code now} and never negative. */
  RootStatus status(Instant now) {
    Optional<Duration> age =
        oldestModified.map(
            t -> {
              Duration d = Duration.between(t.toInstant(), now);
              return d.isNegative() ? Duration.ZERO : d;
            });
    return new RootStatus(root, files, bytes, age, error, polled);
  }

  boolean empty() {
    return new RootStatus(root, files, bytes, Optional.empty(), error).empty(residualBytes);
  }

  /**
   * Same decision inputs (counts and error) and the same way of watching; ages and modification
   * times do not matter.
   */
  boolean sameVerdict(RootJudgement other) {
    return files == other.files
        && bytes == other.bytes
        && error.equals(other.error)
        && polled.equals(other.polled);
  }

  /**
   * {@link #sameVerdict} with bytes compared by {@link #bucket}: the same emptiness (exactly, the
   * residual allowance included), files, error and way of watching, and bytes within one bucket.
   */
  boolean sameBucketedVerdict(RootJudgement other) {
    return files == other.files
        && bucket(bytes) == bucket(other.bytes)
        && empty() == other.empty()
        && error.equals(other.error)
        && polled.equals(other.polled);
  }

  /**
   * Bytes in buckets of an eighth of a power of two: 0 to 7 exactly, then [8, 9), ..., [1 MiB,
   * 1.125 MiB), ...; two counts in one bucket differ by less than 12.5 %.
   */
  static long bucket(long bytes) {
    if (bytes < 8) {
      return bytes;
    }
    int msb = 63 - Long.numberOfLeadingZeros(bytes);
    return ((long) msb << 3) | ((bytes >>> (msb - 3)) & 7);
  }
}
