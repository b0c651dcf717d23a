package dev.drainguard.operator;

import java.time.Duration;
import java.time.Instant;

/**
 * A token bucket for log lines that a caller can trigger at will (a hold, a refused connection):
 * {@code burst} lines at once, then one per {@code refill}. A line that does not fit is dropped and
 * counted; the next line that fits reports how many were dropped, so nothing is hidden for good. It
 * reads no clock: callers pass the instant.
 */
public final class LogBudget {

  private final int burst;
  private final Duration refill;
  private double tokens;
  private Instant last;
  private long dropped;

  public LogBudget(int burst, Duration refill) {
    if (burst < 1 || refill.isNegative() || refill.isZero()) {
      throw new IllegalArgumentException("burst " + burst + " refill " + refill);
    }
    this.burst = burst;
    this.refill = refill;
    this.tokens = burst;
  }

  /**
   * Takes one line's token at {@code now}.
   *
   * @return -1 when the line must be dropped; otherwise how many lines were dropped since the last
   *     line that was written (0 almost always)
   */
  public synchronized long take(Instant now) {
    if (last != null && now.isAfter(last)) {
      double earned = (double) Duration.between(last, now).toNanos() / refill.toNanos();
      tokens = Math.min(burst, tokens + earned);
    }
    if (last == null || now.isAfter(last)) {
      last = now;
    }
    if (tokens < 1) {
      dropped++;
      return -1;
    }
    tokens -= 1;
    long d = dropped;
    dropped = 0;
    return d;
  }
}
