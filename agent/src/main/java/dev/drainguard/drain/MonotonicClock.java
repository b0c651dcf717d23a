package dev.drainguard.drain;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.function.LongSupplier;

/**
 * A clock (UTC unless asked otherwise) that never jumps: it starts at the wall-clock time and then
 * advances with {@link System#nanoTime()}. The agent's heartbeat timers, quiet period and deadline
 * are measured with it, so an NTP step backwards cannot stall heartbeats until the hook times out,
 * and a step forwards cannot bring the deadline early. The instants it reports drift from wall time
 * by the sum of such steps, which is harmless for the logs and status it feeds.
 */
public final class MonotonicClock extends Clock {

  private final Instant origin;
  private final long originNanos;
  private final LongSupplier nanos;
  private final ZoneId zone;

  MonotonicClock(Instant origin, LongSupplier nanos) {
    this(origin, nanos, nanos.getAsLong(), ZoneOffset.UTC);
  }

  private MonotonicClock(Instant origin, LongSupplier nanos, long originNanos, ZoneId zone) {
    this.origin = origin;
    this.nanos = nanos;
    this.originNanos = originNanos;
    this.zone = zone;
  }

  /** Anchored at the system's wall-clock time now. */
  public static MonotonicClock start() {
    return new MonotonicClock(Clock.systemUTC().instant(), System::nanoTime);
  }

  @Override
  public Instant instant() {
    return origin.plus(Duration.ofNanos(nanos.getAsLong() - originNanos));
  }

  @Override
  public ZoneId getZone() {
    return zone;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return new MonotonicClock(origin, nanos, originNanos, zone);
  }
}
