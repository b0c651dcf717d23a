package dev.drainguard.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.LongSummaryStatistics;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JitteredBackoffTest {

  static final JitteredBackoff SCHEDULE = JitteredBackoff.NOT_ACTIVE_YET;

  @ParameterizedTest(name = "after failed try {0}: at most {1} s")
  @CsvSource({
    "1, 5",
    "2, 10",
    "3, 20",
    "4, 40",
    "5, 80",
    "6, 160",
    "7, 180",
    "8, 180",
    "1000, 180"
  })
  void ceiling_doublesFromFiveSecondsToTheCap(int failedTry, long seconds) {
    assertThat(SCHEDULE.ceiling(failedTry)).isEqualTo(Duration.ofSeconds(seconds));
  }

  @Test
  void delay_alwaysWithinZeroAndTheCeiling() {
    SplittableRandom random = new SplittableRandom(7);
    for (int failedTry = 1; failedTry <= 12; failedTry++) {
      Duration ceiling = SCHEDULE.ceiling(failedTry);
      for (int i = 0; i < 2_000; i++) {
        assertThat(SCHEDULE.delay(failedTry, random)).isBetween(Duration.ZERO, ceiling);
      }
    }
  }

  // Full jitter, not "ceiling plus a little": the draws must cover the whole range, or a fleet
  // that starts in step would stay in step.
  @Test
  void delay_coversTheWholeRange_meanNearHalfTheCeiling() {
    SplittableRandom random = new SplittableRandom(42);
    LongSummaryStatistics s = new LongSummaryStatistics();
    for (int i = 0; i < 20_000; i++) {
      s.accept(SCHEDULE.delay(9, random).toMillis());
    }
    long cap = SCHEDULE.cap().toMillis();
    assertThat(s.getMin()).isLessThan(cap / 100);
    assertThat(s.getMax()).isGreaterThan(cap * 99 / 100);
    assertThat(s.getAverage()).isBetween(cap * 0.48, cap * 0.52);
    assertThat(SCHEDULE.meanAtCap()).isEqualTo(Duration.ofSeconds(90));
  }

  @Test
  void delay_differentRandomSources_spreadAFleetThatFailedTogether() {
    List<Long> pauses = new ArrayList<>();
    for (int agent = 0; agent < 300; agent++) {
      pauses.add(SCHEDULE.delay(7, new SplittableRandom(agent)).toMillis());
    }
    assertThat(pauses.stream().distinct().count()).isGreaterThan(290);
    assertThat(pauses.stream().filter(p -> p < 60_000).count()).isBetween(70L, 130L);
  }

  @Test
  void delay_sameSeed_sameSchedule() {
    SplittableRandom a = new SplittableRandom(3);
    SplittableRandom b = new SplittableRandom(3);
    for (int t = 1; t < 10; t++) {
      assertThat(SCHEDULE.delay(t, a)).isEqualTo(SCHEDULE.delay(t, b));
    }
  }

  @Test
  void delay_randomSourceAtItsLowest_noPause() {
    RandomGenerator zero = () -> 0L;
    assertThat(SCHEDULE.delay(5, zero)).isEqualTo(Duration.ZERO);
  }

  @Test
  void cappedAt_shortHook_noPauseLongerThanAThirdOfItsHeartbeatTimeout() {
    JitteredBackoff b = SCHEDULE.cappedAt(Duration.ofSeconds(30).dividedBy(3));

    assertThat(b.first()).isEqualTo(Duration.ofSeconds(5));
    assertThat(b.cap()).isEqualTo(Duration.ofSeconds(10));
    assertThat(b.ceiling(2)).isEqualTo(Duration.ofSeconds(10));
    assertThat(b.ceiling(20)).isEqualTo(Duration.ofSeconds(10));
    assertThat(SCHEDULE.cappedAt(Duration.ofSeconds(2)))
        .isEqualTo(new JitteredBackoff(Duration.ofSeconds(2), Duration.ofSeconds(2)));
    assertThat(SCHEDULE.cappedAt(Duration.ofHours(1))).isEqualTo(SCHEDULE);
    assertThat(SCHEDULE.cappedAt(Duration.ZERO).cap()).isEqualTo(Duration.ofMillis(1));
  }

  @Test
  void invalid_refused() {
    assertThatThrownBy(() -> new JitteredBackoff(Duration.ZERO, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new JitteredBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SCHEDULE.ceiling(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
