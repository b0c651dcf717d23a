package dev.drainguard.forecast;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.drainguard.queue.ProbeReading;
import dev.drainguard.queue.QueueReading;
import dev.drainguard.queue.QueueSnapshot;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class QueueForecastsTest {

  static final Instant T0 = DrainForecastTest.T0;

  final QueueForecasts forecasts = new QueueForecasts(ForecastSettings.defaults());

  static ProbeReading known(String probe, Instant at, long bytes, boolean deciding) {
    return ProbeReading.known(probe, at, List.of(new QueueReading("q", bytes)))
        .withDeciding(deciding);
  }

  static QueueSnapshot snapshot(Instant at, ProbeReading... probes) {
    boolean empty = List.of(probes).stream().allMatch(ProbeReading::empty);
    return new QueueSnapshot(at, List.of(), List.of(probes), empty);
  }

  /** files drains 100 MB at 10 MB/s (10 s left); cribl 100 MB at 1 MB/s (100 s left). */
  void feedTwoProbes(long untilSeconds, boolean criblDeciding) {
    for (long s = 0; s <= untilSeconds; s += 5) {
      Instant at = T0.plusSeconds(s);
      forecasts.observe(
          snapshot(
              at,
              known("files", at, 400_000_000L - 10_000_000L * s, true),
              known("cribl", at, 160_000_000L - 1_000_000L * s, criblDeciding)));
    }
  }

  @Test
  void total_emptiesWhenTheSlowestDecidingProbeDoes_ratesAndRiskAdd() {
    feedTwoProbes(30, true);
    Instant now = T0.plusSeconds(30);
    Instant deadline = now.plusSeconds(60);

    Forecast total = forecasts.total(now, Optional.of(deadline));

    // files: 100 MB at 10 MB/s, 10 s; cribl: 130 MB at 1 MB/s, 130 s: the total waits for cribl
    assertThat(total.emptyIn().orElseThrow().toMillis()).isCloseTo(130_000L, within(1L));
    assertThat(total.drainRateBytesPerSecond().getAsDouble()).isCloseTo(11e6, within(1e-3));
    assertThat(total.bytes()).hasValue(100_000_000L + 130_000_000L);
    // at the deadline files is empty and cribl still holds 70 MB
    assertThat(total.bytesAtRisk().getAsLong()).isCloseTo(70_000_000L, within(1L));
    assertThat(forecasts.byProbe(now, Optional.empty())).containsOnlyKeys("files", "cribl");
  }

  @Test
  void aProbeThatDoesNotDecide_isLeftOut() {
    feedTwoProbes(30, false);
    Forecast total = forecasts.total(T0.plusSeconds(30), Optional.empty());
    assertThat(total.emptyIn().orElseThrow().toMillis()).isCloseTo(10_000L, within(1L));
    assertThat(forecasts.byProbe(T0.plusSeconds(30), Optional.empty())).containsOnlyKeys("files");
  }

  @Test
  void aDecidingProbeThatCannotTell_makesTheTotalUnknown() {
    feedTwoProbes(30, true);
    Instant at = T0.plusSeconds(35);
    forecasts.observe(
        snapshot(
            at,
            known("files", at, 50_000_000L, true),
            ProbeReading.unknown("cribl", at, "HTTP 503")));

    assertThat(forecasts.total(at, Optional.of(at.plusSeconds(60))))
        .isEqualTo(Forecast.unknown(at));
    assertThat(forecasts.byProbe(at, Optional.empty()).get("files").bytes()).hasValue(50_000_000L);
  }

  @Test
  void aStalledProbe_stallsTheTotal_andItsNoProgressIsShown() {
    for (long s = 0; s <= 400; s += 5) {
      Instant at = T0.plusSeconds(s);
      // files keeps draining slowly; cribl never moves (a blocked worker process)
      forecasts.observe(
          snapshot(
              at,
              known("files", at, 900_000_000L - 1_000_000L * s, true),
              known("cribl", at, 5_000, true)));
    }
    Instant now = T0.plusSeconds(400);
    Forecast total = forecasts.total(now, Optional.empty());
    assertThat(total.stalled()).isTrue();
    assertThat(total.noProgressFor()).contains(Duration.ofSeconds(400));
    assertThat(total.emptyIn()).isEmpty();
    assertThat(total.describe()).isEqualTo("no progress for 6m 40s");
  }

  @Test
  void theSameReadingSeenAgain_isNotASecondSample() {
    // the Cribl probe is read every 5 s; the controller sees its reading at every wake-up
    Instant read = T0;
    ProbeReading once = known("cribl", read, 1_000, true);
    for (int i = 0; i < 5; i++) {
      forecasts.observe(snapshot(read.plusSeconds(i), once));
    }
    forecasts.observe(snapshot(T0.plusSeconds(30), known("cribl", T0.plusSeconds(30), 700, true)));
    // two readings 30 s apart: 10 bytes/s. Re-stamped at each wake-up, the first reading would
    // count as five readings of 1,000 bytes at 0..4 s, and the fit would read about 10.6 bytes/s.
    assertThat(
            forecasts
                .total(T0.plusSeconds(30), Optional.empty())
                .drainRateBytesPerSecond()
                .getAsDouble())
        .isCloseTo(10, within(1e-9));
  }
}
