package dev.drainguard.operator;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class LogBudgetTest {

  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  @Test
  void aBurst_thenOneLinePerRefill_andTheNextLineCountsWhatWasLeftOut() {
    LogBudget b = new LogBudget(3, Duration.ofSeconds(10));
    assertThat(b.take(T0)).isZero();
    assertThat(b.take(T0)).isZero();
    assertThat(b.take(T0)).isZero();
    assertThat(b.take(T0)).isEqualTo(-1);
    assertThat(b.take(T0.plusSeconds(5))).isEqualTo(-1);
    assertThat(b.take(T0.plusSeconds(10))).isEqualTo(2); // two were dropped meanwhile
    assertThat(b.take(T0.plusSeconds(10))).isEqualTo(-1);
  }

  @Test
  void aClockThatGoesBack_earnsNothing() {
    LogBudget b = new LogBudget(1, Duration.ofSeconds(10));
    assertThat(b.take(T0)).isZero();
    assertThat(b.take(T0.minusSeconds(3600))).isEqualTo(-1);
  }
}
