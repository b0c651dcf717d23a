package dev.drainguard.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class StatsTest {

  @Test
  void nearestRank() {
    List<Double> v = IntStream.rangeClosed(1, 100).mapToObj(i -> (double) (101 - i)).toList();
    Stats s = Stats.of(v);
    assertThat(s.p50()).isEqualTo(50);
    assertThat(s.p99()).isEqualTo(99);
    assertThat(s.min()).isEqualTo(1);
    assertThat(s.max()).isEqualTo(100);
    assertThat(s.mean()).isEqualTo(50.5);
  }
}
