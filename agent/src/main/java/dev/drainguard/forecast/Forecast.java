package dev.drainguard.forecast;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * What the forecast says at one instant. Every field that cannot be known is empty, never zero:
 * unknown is never empty.
 *
 * @param at the instant judged ({@code now})
 * @param bytes the latest bytes read; empty while the source cannot tell or has not been read
 * @param drainRateBytesPerSecond bytes leaving per second over the window: positive while the queue
 *     drains, negative while it grows, 0 while it stays put; empty while too few readings span the
 *     window
 * @param emptyIn the estimated time until the queue is empty at this rate: zero when it is empty,
 *     empty when unknown, flat or growing
 * @param bytesAtRisk the bytes still queued at the deadline at this rate (0 when the drain finishes
 *     in time); present only when a deadline was given and the rate is known
 * @param noProgressFor how long since the bytes last went down (or the first reading); empty when
 *     unknown or empty
 * @param stalled no progress for {@code stall-after} while data is queued
 */
public record Forecast(
    Instant at,
    OptionalLong bytes,
    OptionalDouble drainRateBytesPerSecond,
    Optional<Duration> emptyIn,
    OptionalLong bytesAtRisk,
    Optional<Duration> noProgressFor,
    boolean stalled) {

  public Forecast {
    Objects.requireNonNull(at, "at");
    Objects.requireNonNull(bytes, "bytes");
    Objects.requireNonNull(drainRateBytesPerSecond, "drainRateBytesPerSecond");
    Objects.requireNonNull(emptyIn, "emptyIn");
    Objects.requireNonNull(bytesAtRisk, "bytesAtRisk");
    Objects.requireNonNull(noProgressFor, "noProgressFor");
  }

  /** Nothing known yet (no reading, or the source cannot tell). */
  public static Forecast unknown(Instant at) {
    return new Forecast(
        at,
        OptionalLong.empty(),
        OptionalDouble.empty(),
        Optional.empty(),
        OptionalLong.empty(),
        Optional.empty(),
        false);
  }

  /** {@link #emptyIn} in seconds, for JSON and metrics ({@code queues.emptyInSeconds}). */
  public OptionalDouble emptyInSeconds() {
    return emptyIn.isPresent()
        ? OptionalDouble.of(emptyIn.get().toMillis() / 1000.0)
        : OptionalDouble.empty();
  }

  /** Whether the forecast says data will still be queued at the deadline. */
  public boolean atRisk() {
    return bytesAtRisk.isPresent() && bytesAtRisk.getAsLong() > 0;
  }

  /**
   * One phrase for status and the HOLDING log line: {@code draining 45.2 MiB/s, empty in ~2m 10s},
   * {@code growing +3.1 MiB/s}, {@code no progress for 6m}, {@code empty}, {@code rate unknown}.
   */
  public String describe() {
    if (bytes.isEmpty()) {
      return "rate unknown (no reading)";
    }
    if (bytes.getAsLong() == 0) {
      return "empty";
    }
    if (stalled) {
      return "no progress for " + Units.duration(noProgressFor.orElseThrow());
    }
    if (drainRateBytesPerSecond.isEmpty()) {
      return "rate unknown (too few readings yet)";
    }
    double rate = drainRateBytesPerSecond.getAsDouble();
    if (rate > 0) {
      return "draining "
          + Units.rate(rate)
          + emptyIn.map(d -> ", empty in ~" + Units.duration(d)).orElse("");
    }
    if (rate < 0) {
      return "growing +" + Units.rate(-rate);
    }
    return noProgressFor.map(d -> "no progress for " + Units.duration(d)).orElse("not moving");
  }

  /**
   * The warning the issue asks for, when {@link #atRisk()}: {@code at the current rate about 1.2
   * GiB (1288490188 bytes) will still be queued at the deadline in 1h 5m}.
   *
   * @param deadline the deadline the forecast was made for
   */
  public String atRiskMessage(Instant deadline) {
    long risk = bytesAtRisk.orElseThrow(() -> new IllegalStateException("no forecast at risk"));
    Duration in = Duration.between(at, deadline);
    return "at the current rate about "
        + Units.bytes(risk)
        + " ("
        + risk
        + " bytes) will still be queued at the deadline in "
        + Units.duration(in.isNegative() ? Duration.ZERO : in);
  }
}
