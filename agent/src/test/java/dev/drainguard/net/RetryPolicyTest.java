package dev.drainguard.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RetryPolicyTest {

  private static final RetryPolicy POLICY =
      new RetryPolicy(6, Duration.ofMillis(100), Duration.ofSeconds(1));

  @ParameterizedTest(name = "after failed try {0}: {1} ms")
  @CsvSource({"1, 100", "2, 200", "3, 400", "4, 800", "5, 1000", "6, 1000", "40, 1000"})
  void delayAfter_doublesFromFirstDelay_cappedAtMaxDelay(int failedTry, long expectedMillis) {
    assertThat(POLICY.delayAfter(failedTry)).isEqualTo(Duration.ofMillis(expectedMillis));
  }

  @Test
  void delayAfter_firstDelayEqualsMax_constant() {
    RetryPolicy flat = new RetryPolicy(3, Duration.ofSeconds(2), Duration.ofSeconds(2));

    assertThat(flat.delayAfter(1)).isEqualTo(Duration.ofSeconds(2));
    assertThat(flat.delayAfter(3)).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void delayAfter_zeroFirstDelay_neverPauses() {
    RetryPolicy eager = new RetryPolicy(3, Duration.ZERO, Duration.ofSeconds(1));

    assertThat(eager.delayAfter(1)).isZero();
    assertThat(eager.delayAfter(3)).isZero();
  }

  @Test
  void default_fourTriesFrom250msCappedAt2s() {
    assertThat(RetryPolicy.DEFAULT.attempts()).isEqualTo(4);
    assertThat(RetryPolicy.DEFAULT.delayAfter(1)).isEqualTo(Duration.ofMillis(250));
    assertThat(RetryPolicy.DEFAULT.delayAfter(3)).isEqualTo(Duration.ofSeconds(1));
    assertThat(RetryPolicy.DEFAULT.delayAfter(10)).isEqualTo(Duration.ofSeconds(2));
  }

  @ParameterizedTest
  @CsvSource({"0", "-1"})
  void new_attemptsBelowOne_rejected(int attempts) {
    assertThatThrownBy(() -> new RetryPolicy(attempts, Duration.ZERO, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("attempts must be >= 1: " + attempts);
  }

  @Test
  void new_negativeFirstDelay_rejected() {
    assertThatThrownBy(() -> new RetryPolicy(2, Duration.ofMillis(-1), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("0 <= firstDelay <= maxDelay");
  }

  @Test
  void new_maxDelayBelowFirstDelay_rejected() {
    assertThatThrownBy(() -> new RetryPolicy(2, Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PT2S")
        .hasMessageContaining("PT1S");
  }
}
