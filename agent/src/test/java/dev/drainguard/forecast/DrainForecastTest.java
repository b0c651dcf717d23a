package dev.drainguard.forecast;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.function.LongUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The forecast on synthetic series. Each test names the error bound it holds the forecast to; the
 * bounds are those {@link DrainForecast}'s comment derives (exact on a line; 1.5 × P / D on a
 * staircase of period P over a span D; never above the true rate while a refill is in the window).
 */
class DrainForecastTest {

  static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");
  static final Duration WINDOW = ForecastSettings.DEFAULT_WINDOW;
  static final double MIB = 1024 * 1024;

  /** Relative error allowed where the maths is exact: only floating point rounding remains. */
  static final double EXACT = 1e-9;

  final DrainForecast f = new DrainForecast(ForecastSettings.defaults());

  static Instant at(double seconds) {
    return T0.plusMillis(Math.round(seconds * 1000));
  }

  /** Feeds {@code bytes(t)} (t in ms) every {@code stepMs} from {@code fromMs} to {@code toMs}. */
  static List<Instant> feed(
      DrainForecast f, long fromMs, long toMs, long stepMs, LongUnaryOperator bytes) {
    List<Instant> fed = new ArrayList<>();
    for (long t = fromMs; t <= toMs; t += stepMs) {
      f.observe(T0.plusMillis(t), bytes.applyAsLong(t));
      fed.add(T0.plusMillis(t));
    }
    return fed;
  }

  @Test
  void steadyDrain_rateExact_emptyInWithin1ms_atRiskWithin1Byte() {
    // 6 GB draining at 20 MB/s, read every 5 s for a minute
    feed(f, 0, 60_000, 5_000, t -> 6_000_000_000L - 20_000 * t);
    Instant now = at(60);

    assertThat(f.rate(now).getAsDouble()).isCloseTo(20_000_000, within(20_000_000 * EXACT));
    // 4.8 GB left at 20 MB/s: 240 s
    assertThat(f.emptyIn(now).orElseThrow().toMillis()).isCloseTo(240_000L, within(1L));
    // a deadline 120 s away leaves 2.4 GB; one 300 s away leaves nothing
    assertThat(f.atRisk(at(180), now).getAsLong()).isCloseTo(2_400_000_000L, within(1L));
    assertThat(f.atRisk(at(360), now).getAsLong()).isZero();
    assertThat(f.stalled(now)).isFalse();
    assertThat(f.forecast(now, Optional.empty()).describe())
        .isEqualTo("draining 19.1 MiB/s, empty in ~4m");
  }

  @Test
  void steadyDrain_readAtIrregularInstants_rateStillExact() {
    // the probe's reads start whenever its thread gets to them: 1 to 9 s apart (seeded)
    Random random = new Random(16);
    long t = 0;
    while (t < 120_000) {
      f.observe(T0.plusMillis(t), 900_000_000L - 3_000 * t);
      t += 1_000 + random.nextInt(8_000);
    }
    Instant now = T0.plusMillis(t);
    assertThat(f.rate(now).getAsDouble()).isCloseTo(3_000_000, within(3_000_000 * EXACT));
  }

  @Test
  void burstyDrain_rateWithin1Point5TimesPeriodOverSpan() {
    // the consumer takes 50 MB every P = 10 s (mean 5 MB/s); readings every second, jittered
    long step = 50_000_000;
    long periodMs = 10_000;
    double mean = step / (periodMs / 1000.0);
    LongUnaryOperator staircase = t -> 3_000_000_000L - step * (t / periodMs);
    Random random = new Random(7);
    List<Instant> fed = new ArrayList<>();
    double worst = 0;
    for (long t = 0; t <= 400_000; t += 1_000) {
      long readAt = t + random.nextInt(300);
      f.observe(T0.plusMillis(readAt), staircase.applyAsLong(readAt));
      fed.add(T0.plusMillis(readAt));
      Instant now = T0.plusMillis(readAt);
      if (readAt < WINDOW.toMillis()) {
        continue; // judged once a whole window of readings is in
      }
      List<Instant> in =
          fed.stream().filter(i -> !i.isBefore(now.minus(WINDOW)) && !i.isAfter(now)).toList();
      double span = Duration.between(in.get(0), in.get(in.size() - 1)).toMillis() / 1000.0;
      double bound = 1.5 * (periodMs / 1000.0) / span;
      double error = Math.abs(f.rate(now).getAsDouble() - mean) / mean;
      assertThat(error)
          .as("relative error at %s (bound %.4f)", now, bound)
          .isLessThanOrEqualTo(bound);
      worst = Math.max(worst, error);
      // time to empty is the latest reading over that rate, so within the same share
      double left = staircase.applyAsLong(readAt);
      double emptyIn = f.emptyIn(now).orElseThrow().toMillis() / 1000.0;
      assertThat(emptyIn)
          .isBetween(left / (mean * (1 + bound)), left / (mean * (1 - bound)) + 1e-3);
    }
    System.out.printf("bursty drain: worst relative rate error %.4f (bound ~%.4f)%n", worst, 0.125);
  }

  @Test
  void growth_rateNegativeExactly_noTimeToEmpty_atRiskProjectsTheGrowth() {
    // 1 GB growing at 3 MiB/s
    feed(f, 0, 90_000, 5_000, t -> 1_000_000_000L + Math.round(3 * MIB * t / 1000));
    Instant now = at(90);
    long bytes = 1_000_000_000L + Math.round(3 * MIB * 90);

    assertThat(f.rate(now).getAsDouble()).isCloseTo(-3 * MIB, within(3 * MIB * 1e-6));
    assertThat(f.emptyIn(now)).isEmpty();
    // growth projected to a deadline ten minutes away, within 1 byte per second of projection
    assertThat(f.atRisk(at(690), now).getAsLong())
        .isCloseTo(bytes + Math.round(3 * MIB * 600), within(600L));
    assertThat(f.forecast(now, Optional.empty()).describe()).isEqualTo("growing +3.0 MiB/s");
    // growth is no progress either: after stall-after it is a stall
    assertThat(f.stalled(now)).isFalse();
    feed(f, 95_000, 300_000, 5_000, t -> 1_000_000_000L + Math.round(3 * MIB * t / 1000));
    assertThat(f.stalled(at(300))).isTrue();
  }

  @Test
  void stall_judgedExactlyAtStallAfterSinceTheLastDecrease_rateZeroOneWindowLater() {
    // 10 MB/s for a minute down to 400 MB, then nothing moves (a dead consumer)
    feed(f, 0, 60_000, 5_000, t -> 1_000_000_000L - 10_000 * t);
    feed(f, 65_000, 600_000, 5_000, t -> 400_000_000L);
    Instant lastDecrease = at(60);

    DrainForecast g = new DrainForecast(ForecastSettings.defaults());
    feed(g, 0, 60_000, 5_000, t -> 1_000_000_000L - 10_000 * t);
    feed(g, 65_000, 355_000, 5_000, t -> 400_000_000L);
    // 4m55s after the last decrease: not yet
    assertThat(g.stalled(at(355))).isFalse();
    g.observe(at(360), 400_000_000L);
    assertThat(g.stalled(at(360))).isTrue();

    Instant now = at(600);
    assertThat(f.stalled(now)).isTrue();
    assertThat(f.noProgressFor(now)).contains(Duration.between(lastDecrease, now));
    // a window of flat readings: exactly 0, so no time to empty, and all of it at risk
    assertThat(f.rate(now).getAsDouble()).isZero();
    assertThat(f.emptyIn(now)).isEmpty();
    assertThat(f.atRisk(at(900), now)).hasValue(400_000_000L);
    assertThat(f.forecast(now, Optional.empty()).describe()).isEqualTo("no progress for 9m");

    // the consumer comes back: progress at once, and the stall is over
    f.observe(at(605), 399_000_000L);
    assertThat(f.stalled(at(605))).isFalse();
  }

  @Test
  void refilled_rateNeverAboveTheTrueRateWhileTheRefillIsInTheWindow_exactAfter() {
    // 8 MB/s throughout; at t = 150 s a writer adds 2 GB at once
    long refillMs = 150_000;
    LongUnaryOperator bytes =
        t -> 3_000_000_000L - 8_000 * t + (t >= refillMs ? 2_000_000_000L : 0);
    double trueRate = 8_000_000;
    for (long t = 0; t <= 400_000; t += 5_000) {
      f.observe(T0.plusMillis(t), bytes.applyAsLong(t));
      Instant now = T0.plusMillis(t);
      if (t < ForecastSettings.DEFAULT_MIN_SPAN.toMillis()) {
        continue;
      }
      double rate = f.rate(now).getAsDouble();
      boolean refillInWindow = t >= refillMs && t - WINDOW.toMillis() < refillMs;
      if (refillInWindow) {
        // errs towards "at risk": a lower rate, a later empty, more bytes at the deadline
        assertThat(rate).as("rate at %s", now).isLessThan(trueRate);
      } else {
        assertThat(rate).as("rate at %s", now).isCloseTo(trueRate, within(trueRate * EXACT));
      }
      assertThat(f.stalled(now)).isFalse();
    }
  }

  @Test
  void refillOfAnEmptyQueue_startsTheNoProgressClockWhenDataAppears() {
    feed(f, 0, 600_000, 5_000, t -> 0);
    assertThat(f.emptyIn(at(600))).contains(Duration.ZERO);
    assertThat(f.noProgressFor(at(600))).isEmpty();
    // data arrives and sits there
    feed(f, 605_000, 900_000, 5_000, t -> 70_000_000L);
    assertThat(f.noProgressFor(at(900))).contains(Duration.ofSeconds(295));
    assertThat(f.stalled(at(900))).isFalse();
    f.observe(at(905), 70_000_000L);
    assertThat(f.stalled(at(905))).isTrue();
  }

  @Test
  void unknownReading_makesEverythingUnknownUntilTheNextReading() {
    feed(f, 0, 60_000, 5_000, t -> 600_000_000L - 5_000 * t);
    f.observeUnknown(at(65));

    Forecast unknown = f.forecast(at(65), Optional.of(at(600)));
    assertThat(unknown).isEqualTo(Forecast.unknown(at(65)));
    assertThat(unknown.describe()).isEqualTo("rate unknown (no reading)");
    assertThat(f.stalled(at(65))).isFalse();

    f.observe(at(70), 600_000_000L - 5_000 * 70_000);
    assertThat(f.rate(at(70)).getAsDouble()).isCloseTo(5_000_000, within(5_000_000 * EXACT));
  }

  @Test
  void olderOrSameInstantReading_neverOverridesTheNewest() {
    feed(f, 0, 60_000, 5_000, t -> 600_000_000L - 5_000 * t);
    f.observe(at(30), 1L); // late, out of order
    f.observe(at(60), 1L); // same instant as the newest
    f.observeUnknown(at(40)); // late unknown
    assertThat(f.forecast(at(60), Optional.empty()).bytes()).hasValue(300_000_000L);
    assertThat(f.rate(at(60)).getAsDouble()).isCloseTo(5_000_000, within(5_000_000 * EXACT));
  }

  @Test
  void staleReadings_areUnknownOnceOlderThanTheWindow() {
    feed(f, 0, 60_000, 5_000, t -> 600_000_000L - 5_000 * t);
    assertThat(f.forecast(at(60).plus(WINDOW), Optional.empty()).bytes()).isPresent();
    assertThat(f.forecast(at(60).plus(WINDOW).plusMillis(1), Optional.empty()))
        .isEqualTo(Forecast.unknown(at(60).plus(WINDOW).plusMillis(1)));
  }

  @Test
  void readingsSpanningLessThanMinSpan_giveNoRate() {
    f.observe(at(0), 1000);
    f.observe(at(1), 500);
    assertThat(f.rate(at(1))).isEmpty();
    assertThat(f.emptyIn(at(1))).isEmpty();
    assertThat(f.atRisk(at(100), at(1))).isEmpty();
    assertThat(f.forecast(at(1), Optional.empty()).describe())
        .isEqualTo("rate unknown (too few readings yet)");
  }

  @Test
  void aBurstOfReadings_keepsMemoryBounded_andTheRateExact() {
    // 200,000 readings 1 ms apart (a storm of filesystem events), 1 byte leaving per ms
    feed(f, 0, 199_999, 1, t -> 1_000_000L - t);
    assertThat(f.samplesKept()).isLessThanOrEqualTo(DrainForecast.MAX_SAMPLES_PER_WINDOW + 2);
    assertThat(f.rate(T0.plusMillis(199_999)).getAsDouble()).isCloseTo(1000, within(1000 * EXACT));
  }

  @Test
  void emptyQueue_emptyNowAndNothingAtRisk() {
    feed(f, 0, 30_000, 5_000, t -> 0);
    assertThat(f.emptyIn(at(30))).contains(Duration.ZERO);
    assertThat(f.atRisk(at(60), at(30))).hasValue(0);
    assertThat(f.stalled(at(30))).isFalse();
    assertThat(f.forecast(at(30), Optional.empty()).describe()).isEqualTo("empty");
  }
}
