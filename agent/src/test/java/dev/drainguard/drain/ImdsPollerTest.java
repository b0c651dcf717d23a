package dev.drainguard.drain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.imds.HttpInstanceMetadata;
import dev.drainguard.imds.SpotNotice;
import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.net.RetryPolicy;
import dev.drainguard.net.Sleeper;
import dev.drainguard.sim.Simulator;
import dev.drainguard.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One poll of {@link ImdsPoller} against the simulator's IMDS over loopback: which paths it reads,
 * by the instance's purchasing option and by what IMDS has answered.
 */
class ImdsPollerTest {

  static final String ID = "i-0123456789abcdef0";
  static final String SPOT = "/latest/meta-data/spot/instance-action";
  static final String REBALANCE = "/latest/meta-data/events/recommendations/rebalance";
  static final String LIFE_CYCLE = "/latest/meta-data/instance-life-cycle";

  final MutableClock clock = MutableClock.atNewYear();
  Simulator sim;
  ImdsPoller poller;

  @BeforeEach
  void start() {
    sim = Simulator.start(clock);
    sim.addGroup("workers");
    sim.addInstance("workers", ID, "eu-west-1", true);
    // one attempt per read: an injected failure fails exactly one read
    HttpInstanceMetadata imds =
        new HttpInstanceMetadata(
            sim.imdsEndpoint(),
            LoopbackGuard.of(true),
            new RetryPolicy(1, Duration.ofMillis(1), Duration.ofMillis(1)),
            Sleeper.NONE);
    poller =
        new ImdsPoller(
            imds, Duration.ofSeconds(5), clock, Optional.empty(), () -> true, () -> true, e -> {});
  }

  @AfterEach
  void stop() {
    poller.close();
    sim.close();
  }

  @Test
  void onDemand_theNoticesAreNeverRead_andThePurchasingOptionIsAskedOnce() {
    for (int i = 0; i < 3; i++) {
      Event.ImdsPolled p = poller.poll();
      assertThat(p.error()).isEmpty();
      assertThat(p.target()).isPresent();
      assertThat(p.interruption()).isEmpty();
      assertThat(p.rebalance()).isEmpty();
    }
    assertThat(sim.imdsGets(LIFE_CYCLE)).isEqualTo(1);
    assertThat(sim.imdsGets(SPOT)).isZero();
    assertThat(sim.imdsGets(REBALANCE)).isZero();
  }

  @Test
  void spot_theNoticesAreReadAtEveryPoll_andReported() {
    sim.setPurchasingOption(ID, "spot");
    poller.poll();
    poller.poll();
    Instant at = Instant.parse("2026-01-01T00:02:00Z");
    sim.spotInterruption(ID, "terminate", at);

    Event.ImdsPolled p = poller.poll();

    assertThat(p.interruption())
        .contains(new SpotNotice(SpotNotice.Kind.INTERRUPTION, "terminate", at));
    assertThat(sim.imdsGets(SPOT)).isEqualTo(3);
    assertThat(sim.imdsGets(LIFE_CYCLE)).isEqualTo(1);
  }

  @Test
  void anyOtherPurchasingOption_isTreatedAsOneThatMayGetNotices() {
    sim.setPurchasingOption(ID, "capacity-block");
    poller.poll();
    poller.poll();
    assertThat(sim.imdsGets(SPOT)).isEqualTo(2);
    assertThat(sim.imdsGets(REBALANCE)).isEqualTo(2);
  }

  @Test
  void thePurchasingOptionNotRead_theNoticesAreRead_andItIsAskedAgainNextPoll() {
    // the target state's GET and then the purchasing option's fail
    sim.failImds(2, 500);

    Event.ImdsPolled first = poller.poll();

    assertThat(first.error()).hasValueSatisfying(e -> assertThat(e).contains("target"));
    assertThat(sim.imdsGets(SPOT)).as("unknown is not on-demand").isEqualTo(1);
    assertThat(sim.imdsGets(REBALANCE)).isEqualTo(1);

    Event.ImdsPolled second = poller.poll();

    assertThat(second.error()).isEmpty();
    assertThat(sim.imdsGets(LIFE_CYCLE)).isEqualTo(2);
    assertThat(sim.imdsGets(SPOT)).as("on-demand now known").isEqualTo(1);
  }
}
