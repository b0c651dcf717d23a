package dev.drainguard.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class FleetModelTest {

  final FleetModel defaults = FleetModel.defaults(10);

  @Test
  void defaults_heartbeatEveryThirdOfTheHeartbeatTimeout_threeTimesPerHeartbeatTimeout() {
    assertThat(defaults.terminating()).isEqualTo(300);
    assertThat(defaults.heartbeatEvery()).isEqualTo(Duration.ofMinutes(20));
    assertThat(defaults.heartbeatsPerTimeout()).isCloseTo(3, within(1e-9));
    assertThat(defaults.holdingRate()).isCloseTo(0.25, within(1e-9));
  }

  @Test
  void shortestHook_heartbeatsThreeTimesPerTimeout() {
    FleetModel m = defaults.withHeartbeatTimeout(Duration.ofSeconds(30));
    assertThat(m.heartbeatEvery()).isEqualTo(Duration.ofSeconds(10));
    assertThat(m.heartbeatsPerTimeout()).isCloseTo(3, within(1e-9));
    assertThat(m.holdingRate()).isCloseTo(30, within(1e-9));
  }

  @Test
  void deregistration_everyAgentAsksEveryFiveSeconds() {
    assertThat(defaults.awaitingCallsPerInstance()).isEqualTo(60);
    assertThat(defaults.awaitingRate()).isCloseTo(60, within(1e-9));
    assertThat(defaults.withDeregistration(Duration.ZERO).awaitingRate()).isZero();
  }

  @Test
  void callsPerScaleIn_countsAwaitingHeartbeatsAndComplete() {
    // per instance: 60 not active yet, 1 + floor(15 min / 20 min) = 1 heartbeat, 1 complete
    assertThat(defaults.callsPerScaleIn()).isEqualTo(300L * 62);
    assertThat(defaults.seedsPeakRate()).isCloseTo(5, within(1e-9));
  }
}
