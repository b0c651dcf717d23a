package dev.drainguard.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FleetModelTest {

  final FleetModel defaults = FleetModel.defaults(10);

  @Test
  void defaults_heartbeatEveryThirdOfTheHeartbeatTimeout_threeTimesPerHeartbeatTimeout() {
    assertThat(defaults.terminating()).isEqualTo(300);
    assertThat(defaults.heartbeatEvery()).isEqualTo(Duration.ofMinutes(20));
    assertThat(defaults.heartbeatsPerTimeout()).isCloseTo(3, within(1e-9));
    assertThat(defaults.holdingRate()).isCloseTo(0.25, within(1e-9));
    assertThat(defaults.imdsPoll()).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void shortestHook_heartbeatsThreeTimesPerTimeout_andRetriesNoLongerThanAHeartbeat() {
    FleetModel m = defaults.withHeartbeatTimeout(Duration.ofSeconds(30));
    assertThat(m.heartbeatEvery()).isEqualTo(Duration.ofSeconds(10));
    assertThat(m.heartbeatsPerTimeout()).isCloseTo(3, within(1e-9));
    assertThat(m.holdingRate()).isCloseTo(30, within(1e-9));
    assertThat(m.schedule().cap()).isEqualTo(Duration.ofSeconds(10));
  }

  // Issue 14: 300 agents asking every 5 s was 60 req/s for the whole delay. Spread by the jittered
  // schedule, the group stays under the assumed 10 req/s once the first minute is over.
  @Test
  void deregistrationOfAnHour_onceSpread_underTheAssumedLimit_nearTheCapsMean() {
    FleetModel.Awaiting a = defaults.withDeregistration(Duration.ofHours(1)).awaiting();

    // 300 agents x 2 requests per round / (180 s / 2) = 6.7 req/s
    assertThat(a.sustainedRate()).isBetween(6.0, 7.5).isLessThan(defaults.assumedRate());
    assertThat(defaults.fixedFiveSecondRate()).isCloseTo(60, within(1e-9));
  }

  @Test
  void defaultDeregistration_onceSpread_underTheAssumedLimit() {
    assertThat(defaults.awaiting().sustainedRate()).isLessThan(defaults.assumedRate());
    assertThat(defaults.sustainedPeakRate()).isLessThan(defaults.assumedRate());
  }

  // What no schedule can avoid: every agent asks once at its notice, all within one IMDS poll.
  @Test
  void firstMinute_atLeastOneRoundPerAgent() {
    FleetModel.Awaiting a = defaults.awaiting();

    assertThat(a.burstRate())
        .isGreaterThanOrEqualTo(defaults.terminating() * defaults.callsPerRound() / 60.0);
  }

  // "The first heartbeat goes out within one backoff step of the action becoming active."
  @ParameterizedTest(name = "deregistration {0} s")
  @CsvSource({"60", "300", "3600"})
  void firstHeartbeat_withinOneStepOfTheActionBecomingActive(long seconds) {
    FleetModel.Awaiting a = defaults.withDeregistration(Duration.ofSeconds(seconds)).awaiting();

    assertThat(a.firstHeartbeatMax()).isLessThanOrEqualTo(defaults.schedule().cap());
    assertThat(a.firstHeartbeatMean()).isLessThan(defaults.schedule().cap());
  }

  @ParameterizedTest(name = "deregistration {0} s: {1} to {2} requests per agent")
  @CsvSource({"60, 8, 13", "300, 13, 20", "3600, 80, 100"})
  void callsPerAgent_whileDeregistering(long seconds, double low, double high) {
    FleetModel m = defaults.withDeregistration(Duration.ofSeconds(seconds));

    double calls = m.awaiting().callsPerInstance();

    assertThat(calls).isBetween(low, high);
    assertThat(m.withCallsPerRound(1).awaiting().callsPerInstance())
        .isCloseTo(calls / 2, within(1e-9));
  }

  @Test
  void noLoadBalancer_nothingAwaited() {
    FleetModel.Awaiting a = defaults.withDeregistration(Duration.ZERO).awaiting();

    assertThat(a.callsPerInstance()).isZero();
    assertThat(a.burstRate()).isZero();
    assertThat(a.sustainedRate()).isZero();
    assertThat(defaults.withDeregistration(Duration.ZERO).fixedFiveSecondRate()).isZero();
  }

  @Test
  void sameSeed_sameFigures() {
    assertThat(defaults.awaiting()).isEqualTo(FleetModel.defaults(10).awaiting());
  }

  @Test
  void callsPerScaleIn_countsAwaitingHeartbeatsAndComplete() {
    // per instance: the awaiting rounds, 1 + floor(15 min / 20 min) = 1 heartbeat, 1 complete
    double awaiting = defaults.awaiting().callsPerInstance();
    assertThat(defaults.callsPerScaleIn()).isEqualTo(Math.round(300 * (awaiting + 2)));
    assertThat(defaults.seedsPeakRate()).isCloseTo(5, within(1e-9));
  }
}
