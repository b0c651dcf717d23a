package dev.drainguard.forecast;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RiskWarningsTest {

  @ParameterizedTest(name = "warned {0}, then {1}: warn again {2}")
  @CsvSource({
    // a move of 25 % or less of the last warned figure is the same news
    "1000, 1250, false",
    "1000, 750, false",
    "1000, 1251, true",
    "1000, 749, true",
    // a forecast that says all will drain warns of nothing
    "1000, 0, false",
  })
  void rewarns_onlyWhenTheFigureMovesByMoreThanTheShare(long first, long next, boolean again) {
    RiskWarnings w = new RiskWarnings(0.25);
    assertThat(w.shouldWarn(first)).isTrue();
    assertThat(w.shouldWarn(next)).isEqualTo(again);
  }

  @Test
  void aForecastFlappingAroundTheDeadline_warnsOnce() {
    RiskWarnings w = new RiskWarnings(ForecastSettings.defaults());
    assertThat(w.shouldWarn(0)).isFalse();
    assertThat(w.lastWarned()).isEmpty();
    assertThat(w.shouldWarn(5_000_000)).isTrue();
    for (int i = 0; i < 10; i++) {
      assertThat(w.shouldWarn(0)).isFalse();
      assertThat(w.shouldWarn(5_000_000 + i * 10_000)).isFalse();
    }
    assertThat(w.lastWarned()).hasValue(5_000_000);
  }

  @Test
  void theComparisonIsWithTheLastFigureWarned_notTheLastSeen() {
    // creeping up 10 % a time: warned again once the total move passes 25 %
    RiskWarnings w = new RiskWarnings(0.25);
    assertThat(w.shouldWarn(1000)).isTrue();
    assertThat(w.shouldWarn(1100)).isFalse();
    assertThat(w.shouldWarn(1210)).isFalse();
    assertThat(w.shouldWarn(1331)).isTrue();
    assertThat(w.lastWarned()).hasValue(1331);
  }

  @Test
  void aForecastWithoutBytesAtRisk_neverWarns() {
    RiskWarnings w = new RiskWarnings(0.25);
    Instant t = Instant.parse("2026-12-07T10:00:00Z");
    Forecast noDeadline =
        new Forecast(
            t,
            OptionalLong.of(10),
            OptionalDouble.of(1),
            Optional.empty(),
            OptionalLong.empty(),
            Optional.empty(),
            false);
    assertThat(w.shouldWarn(noDeadline)).isFalse();
    assertThat(w.shouldWarn(Forecast.unknown(t))).isFalse();
  }
}
