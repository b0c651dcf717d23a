package dev.drainguard.net;

import java.time.Duration;

/**
 * How often and how patiently an adapter retries a call that failed in a way that may pass
 * (throttling, 5xx, I/O). Which failures are final is the adapter's classification, not this
 * value's.
 *
 * @param attempts total tries, at least 1
 * @param firstDelay pause after the first failure; doubles after each further one
 * @param maxDelay ceiling on any single pause
 */
public record RetryPolicy(int attempts, Duration firstDelay, Duration maxDelay) {

  /**
   * For calls made from the drain loop: 4 tries over about 3 s keeps one heartbeat round well
   * inside the shortest heartbeat interval (10 s), and the loop itself tries again on its next
   * round.
   */
  public static final RetryPolicy DEFAULT =
      new RetryPolicy(4, Duration.ofMillis(250), Duration.ofSeconds(2));

  /**
   * For Auto Scaling calls: each attempt is bounded by the adapter's attempt timeout (4 s), so 3
   * attempts and their pauses take about 14 s (the adapter adds at most one try for a clock and one
   * for credentials AWS refused, and stops at 20 s whatever is left): a heartbeat that fails at the
   * shortest interval (10 s, for a 30 s HeartbeatTimeout) still leaves time for the next one.
   */
  public static final RetryPolicy API =
      new RetryPolicy(3, Duration.ofMillis(250), Duration.ofSeconds(1));

  public RetryPolicy {
    if (attempts < 1) {
      throw new IllegalArgumentException("attempts must be >= 1: " + attempts);
    }
    if (firstDelay.isNegative() || maxDelay.compareTo(firstDelay) < 0) {
      throw new IllegalArgumentException(
          "need 0 <= firstDelay <= maxDelay: " + firstDelay + ", " + maxDelay);
    }
  }

  /** The pause after failed try number {@code failedTry} (1-based). */
  public Duration delayAfter(int failedTry) {
    Duration d = firstDelay;
    for (int i = 1; i < failedTry && d.compareTo(maxDelay) < 0; i++) {
      d = d.multipliedBy(2);
    }
    return d.compareTo(maxDelay) > 0 ? maxDelay : d;
  }
}
