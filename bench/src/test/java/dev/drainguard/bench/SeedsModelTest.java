package dev.drainguard.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class SeedsModelTest {

  final SeedsModel seeds = new SeedsModel(Duration.ofSeconds(60), Duration.ofSeconds(3600));

  @Test
  void drainedBeforeTheFirstCheck_waitsForIt() {
    assertThat(seeds.termination(5, 20).wastedSeconds()).isCloseTo(15, within(1e-9));
  }

  @Test
  void drainedAfterACheck_waitsForTheNextOne() {
    // checks at 20, 80, 140: drained at 81 waits until 140
    assertThat(seeds.termination(81, 20).wastedSeconds()).isCloseTo(59, within(1e-9));
    assertThat(seeds.termination(80, 20).wastedSeconds()).isCloseTo(0, within(1e-9));
  }

  @Test
  void drainedAfterTheHeartbeatTimeout_losesTheData() {
    SeedsModel.Outcome o = seeds.termination(4000, 10);
    assertThat(o.dataLost()).isTrue();
    assertThat(o.wastedSeconds()).isZero();
  }

  @Test
  void theHookRunsOutBeforeTheNextCheck_wastesUntilTheTimeout() {
    // checks at 50, 110, ..., 3590, 3650: drained at 3595, the hook runs out at 3600
    SeedsModel.Outcome o = seeds.termination(3595, 50);
    assertThat(o.dataLost()).isFalse();
    assertThat(o.wastedSeconds()).isCloseTo(5, within(1e-9));
  }
}
