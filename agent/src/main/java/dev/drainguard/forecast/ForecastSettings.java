package dev.drainguard.forecast;

import java.time.Duration;
import java.util.Objects;

/**
 * How the drain forecast reads its samples.
 *
 * @param window the sliding window the rate is fitted over: long enough to average out a bursty
 *     consumer (the rate's error on a staircase drain with bursts every P seconds is at most 1.5 ×
 *     P / window, see {@link DrainForecast}), short enough to follow a change of pace within
 *     minutes
 * @param minSpan the shortest span of samples a rate is believed from: two readings a few
 *     milliseconds apart say nothing about a pace
 * @param stallAfter how long a queue that still holds data may go without any decrease before it is
 *     judged stalled ({@code stall-after})
 * @param rewarnShare by how much (a share of the last figure warned about) a forecast of bytes at
 *     risk must change before it is worth another warning
 */
public record ForecastSettings(
    Duration window, Duration minSpan, Duration stallAfter, double rewarnShare) {

  /** Two minutes: 24 readings at the default 5 s probe interval, and bursts up to ~20 s apart. */
  public static final Duration DEFAULT_WINDOW = Duration.ofMinutes(2);

  /** Twenty seconds: at least four readings at the default 5 s probe interval. */
  public static final Duration DEFAULT_MIN_SPAN = Duration.ofSeconds(20);

  /** Five minutes: well past any pause of a live Cribl worker, well before a hook times out. */
  public static final Duration DEFAULT_STALL_AFTER = Duration.ofMinutes(5);

  /** A quarter: a forecast that moves less than that is the same news, not a new warning. */
  public static final double DEFAULT_REWARN_SHARE = 0.25;

  public ForecastSettings {
    Objects.requireNonNull(window, "window");
    Objects.requireNonNull(minSpan, "minSpan");
    Objects.requireNonNull(stallAfter, "stallAfter");
    if (window.isNegative() || window.isZero()) {
      throw new IllegalArgumentException("forecast window must be positive: " + window);
    }
    if (minSpan.isNegative() || minSpan.isZero() || minSpan.compareTo(window) > 0) {
      throw new IllegalArgumentException(
          "forecast minSpan must be positive and at most the window: " + minSpan);
    }
    if (stallAfter.isNegative() || stallAfter.isZero()) {
      throw new IllegalArgumentException("stall-after must be positive: " + stallAfter);
    }
    if (!(rewarnShare > 0) || rewarnShare > 10) {
      throw new IllegalArgumentException("rewarn share must be in (0, 10]: " + rewarnShare);
    }
  }

  /** The defaults, with {@code stall-after} as configured. */
  public static ForecastSettings withStallAfter(Duration stallAfter) {
    return new ForecastSettings(DEFAULT_WINDOW, DEFAULT_MIN_SPAN, stallAfter, DEFAULT_REWARN_SHARE);
  }

  /**
   * The defaults, with {@code stall-after} as configured, the window widened to six probe intervals
   * and the shortest span to two when probes are asked less often than every 20 s: a window must
   * hold several readings of every deciding probe, or its rate would always be unknown.
   */
  public static ForecastSettings of(Duration stallAfter, Duration probeInterval) {
    Duration window = max(DEFAULT_WINDOW, probeInterval.multipliedBy(6));
    Duration minSpan = max(DEFAULT_MIN_SPAN, probeInterval.multipliedBy(2));
    return new ForecastSettings(window, minSpan, stallAfter, DEFAULT_REWARN_SHARE);
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  public static ForecastSettings defaults() {
    return withStallAfter(DEFAULT_STALL_AFTER);
  }
}
