package dev.drainguard.forecast;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ForecastTest {

  static final Instant T = DrainForecastTest.T0;

  static Forecast of(
      long bytes,
      Double rate,
      Long emptyInSeconds,
      Long noProgressSeconds,
      boolean stalled,
      Long atRisk) {
    return new Forecast(
        T,
        OptionalLong.of(bytes),
        rate == null ? OptionalDouble.empty() : OptionalDouble.of(rate),
        Optional.ofNullable(emptyInSeconds).map(Duration::ofSeconds),
        atRisk == null ? OptionalLong.empty() : OptionalLong.of(atRisk),
        Optional.ofNullable(noProgressSeconds).map(Duration::ofSeconds),
        stalled);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      nullValues = "-",
      value = {
        "'draining 45.2 MiB/s, empty in ~2m 10s', 5000000000, 47395635.2, 130, 0, false",
        "'growing +3.1 MiB/s', 5000000000, -3250585.6, -, 600, false",
        "'no progress for 6m', 5000000000, 0.0, -, 360, true",
        "'no progress for 1m 5s', 5000000000, 0.0, -, 65, false",
        "'empty', 0, 0.0, 0, -, false",
        "'rate unknown (too few readings yet)', 10, -, -, 0, false",
      })
  void describe_saysWhatStatusShows(
      String expected, long bytes, Double rate, Long emptyIn, Long noProgress, boolean stalled) {
    assertThat(of(bytes, rate, emptyIn, noProgress, stalled, null).describe()).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "'at the current rate about 1.2 GiB (1288490189 bytes) will still be queued at the deadline in 1h 5m', 1288490189, 3900",
    "'at the current rate about 900 B (900 bytes) will still be queued at the deadline in 45s', 900, 45",
  })
  void atRiskMessage_namesTheBytesAndTheTimeLeft(String expected, long atRisk, long deadlineIn) {
    Forecast f = of(10 * atRisk, 1.0, null, 0L, false, atRisk);
    assertThat(f.atRisk()).isTrue();
    assertThat(f.atRiskMessage(T.plusSeconds(deadlineIn))).isEqualTo(expected);
  }
}
