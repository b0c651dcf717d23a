package dev.drainguard.net;

import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * A retry schedule with full jitter: the pause after failed try {@code n} is drawn uniformly from
 * {@code [0, ceiling(n)]}, where {@code ceiling(n) = min(cap, first × 2^(n−1))}. Agents of a fleet
 * that all start retrying at once (a mass scale-in) spread out instead of calling in step, and each
 * agent's long-run rate is one call per {@code cap / 2} on average.
 *
 * <p>The random source is a parameter of {@link #delay}, so the decision core stays deterministic
 * under test (a seeded {@link java.util.SplittableRandom}) and production passes its own.
 *
 * @param first the ceiling of the first pause
 * @param cap the largest ceiling; every pause is at most this
 */
public record JitteredBackoff(Duration first, Duration cap) {

  /**
   * For "No active Lifecycle Action" while the load balancer deregisters the instance (up to 3600
   * s): 5 s, doubling, to 180 s. The first pauses are short so that an action that becomes active
   * within seconds (no load balancer) is heartbeated at once; the cap keeps 300 agents asking
   * (heartbeat and DescribeAutoScalingInstances, 2 requests a round) at 300 × 2 / 90 s ≈ 6.7
   * requests/s once they have spread out, under the 10 requests/s account budget the fleet model
   * assumes. Cap it at a third of the current HeartbeatTimeout with {@link #cappedAt} so that the
   * first heartbeat after the action becomes active always comes in time.
   */
  public static final JitteredBackoff NOT_ACTIVE_YET =
      new JitteredBackoff(Duration.ofSeconds(5), Duration.ofSeconds(180));

  public JitteredBackoff {
    Objects.requireNonNull(first, "first");
    Objects.requireNonNull(cap, "cap");
    if (first.isNegative() || first.isZero() || cap.compareTo(first) < 0) {
      throw new IllegalArgumentException("need 0 < first <= cap: " + first + ", " + cap);
    }
  }

  /** The upper bound of the pause after failed try {@code failedTry} (1-based). */
  public Duration ceiling(int failedTry) {
    if (failedTry < 1) {
      throw new IllegalArgumentException("failedTry must be >= 1: " + failedTry);
    }
    Duration d = first;
    for (int i = 1; i < failedTry && d.compareTo(cap) < 0; i++) {
      d = d.multipliedBy(2);
    }
    return d.compareTo(cap) > 0 ? cap : d;
  }

  /**
   * The pause after failed try {@code failedTry} (1-based): uniform in {@code [0,
   * ceiling(failedTry)]}, at millisecond resolution.
   */
  public Duration delay(int failedTry, RandomGenerator random) {
    long ceilingMillis = ceiling(failedTry).toMillis();
    return Duration.ofMillis(random.nextLong(ceilingMillis + 1));
  }

  /**
   * This schedule with no ceiling above {@code max} (e.g. a third of the hook's HeartbeatTimeout),
   * and never below 1 ms.
   */
  public JitteredBackoff cappedAt(Duration max) {
    Duration newCap = max.compareTo(cap) < 0 ? max : cap;
    if (newCap.compareTo(Duration.ofMillis(1)) < 0) {
      newCap = Duration.ofMillis(1);
    }
    Duration newFirst = first.compareTo(newCap) > 0 ? newCap : first;
    return new JitteredBackoff(newFirst, newCap);
  }

  /** The mean pause once the ceiling has reached the cap: {@code cap / 2}. */
  public Duration meanAtCap() {
    return cap.dividedBy(2);
  }
}
