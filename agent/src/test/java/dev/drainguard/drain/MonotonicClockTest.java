package dev.drainguard.drain;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class MonotonicClockTest {

  @Test
  void advancesWithTheNanoSourceFromItsOrigin() {
    AtomicLong nanos = new AtomicLong(5_000_000_000L);
    Instant origin = Instant.parse("2026-01-01T00:00:00Z");
    MonotonicClock c = new MonotonicClock(origin, nanos::get);
    assertThat(c.instant()).isEqualTo(origin);
    nanos.addAndGet(1_500_000_000L);
    assertThat(c.instant()).isEqualTo(origin.plusMillis(1500));
  }

  @Test
  void theRealOne_neverGoesBackwards() {
    MonotonicClock c = MonotonicClock.start();
    Instant previous = c.instant();
    for (int i = 0; i < 10_000; i++) {
      Instant now = c.instant();
      assertThat(now).isAfterOrEqualTo(previous);
      previous = now;
    }
  }
}
