package dev.drainguard.drain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.imds.HttpInstanceMetadata;
import dev.drainguard.imds.ImdsException;
import dev.drainguard.imds.InstanceMetadata;
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
  HttpInstanceMetadata imds;
  ImdsPoller poller;

  @BeforeEach
  void start() {
    sim = Simulator.start(clock);
    sim.addGroup("workers");
    sim.addInstance("workers", ID, "eu-west-1", true);
    // one attempt per read: an injected failure fails exactly one read
    imds =
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

  /** What the agent's poller does: a poll, its report, then what follows it. */
  Event.ImdsPolled pollAsTheAgentDoes() {
    Event.ImdsPolled p = poller.poll();
    poller.afterPoll();
    return p;
  }

  @Test
  void onDemand_theNoticesAreReadOnceAMinute_andThePurchasingOptionIsAskedOnce() {
    for (int i = 0; i <= 12; i++) { // a minute of polls, at 0, 5, ... 60 s
      Event.ImdsPolled p = pollAsTheAgentDoes();
      assertThat(p.error()).isEmpty();
      assertThat(p.target()).isPresent();
      assertThat(p.interruption()).isEmpty();
      assertThat(p.rebalance()).isEmpty();
      clock.advance(Duration.ofSeconds(5));
    }
    assertThat(sim.imdsGets(LIFE_CYCLE)).isEqualTo(1);
    // the first poll's, before the option was known, and the one a minute later
    assertThat(sim.imdsGets(SPOT)).isEqualTo(2);
    assertThat(sim.imdsGets(REBALANCE)).isEqualTo(2);
  }

  @Test
  void onDemand_aNoticeAwsSendsAnyway_isReportedWithinAMinute() {
    pollAsTheAgentDoes(); // on-demand learnt after it
    // a notice IMDS gives although it said on-demand (the simulator takes it only for spot)
    sim.setPurchasingOption(ID, "spot");
    Instant at = clock.instant().plusSeconds(120);
    sim.spotInterruption(ID, "terminate", at);

    Duration waited = Duration.ZERO;
    Optional<SpotNotice> seen = Optional.empty();
    while (seen.isEmpty() && waited.compareTo(Duration.ofSeconds(90)) < 0) {
      clock.advance(Duration.ofSeconds(5));
      waited = waited.plusSeconds(5);
      seen = pollAsTheAgentDoes().interruption();
    }

    assertThat(seen).as("after %s", waited).isPresent();
    assertThat(waited).isLessThanOrEqualTo(ImdsPoller.ON_DEMAND_NOTICES_EVERY);
  }

  @Test
  void spot_theNoticesAreReadAtEveryPoll_andReported() {
    sim.setPurchasingOption(ID, "spot");
    pollAsTheAgentDoes();
    pollAsTheAgentDoes();
    Instant at = Instant.parse("2026-01-01T00:02:00Z");
    sim.spotInterruption(ID, "terminate", at);

    Event.ImdsPolled p = pollAsTheAgentDoes();

    assertThat(p.interruption())
        .contains(new SpotNotice(SpotNotice.Kind.INTERRUPTION, "terminate", at));
    assertThat(sim.imdsGets(SPOT)).isEqualTo(3);
    assertThat(sim.imdsGets(LIFE_CYCLE)).isEqualTo(1);
  }

  @Test
  void anyOtherPurchasingOption_isTreatedAsOneThatMayGetNotices() {
    sim.setPurchasingOption(ID, "capacity-block");
    pollAsTheAgentDoes();
    pollAsTheAgentDoes();
    assertThat(sim.imdsGets(SPOT)).isEqualTo(2);
    assertThat(sim.imdsGets(REBALANCE)).isEqualTo(2);
  }

  @Test
  void thePurchasingOptionNotRead_theNoticesAreReadAtEveryPoll_andItIsAskedAgainLessAndLessOften() {
    int[] asked = {0};
    InstanceMetadata failing =
        new ForwardingImds(imds) {
          @Override
          public Optional<String> purchasingOption() {
            asked[0]++;
            throw new ImdsException("IMDS GET instance-life-cycle: no answer", null);
          }
        };
    poller =
        new ImdsPoller(
            failing,
            Duration.ofSeconds(5),
            clock,
            Optional.empty(),
            () -> true,
            () -> true,
            e -> {});

    for (int i = 1; i <= 16; i++) {
      Event.ImdsPolled p = poller.poll();
      assertThat(p.error()).as("poll %d", i).isEmpty();
      poller.afterPoll();
      clock.advance(Duration.ofSeconds(5));
    }

    assertThat(sim.imdsGets(SPOT)).as("unknown is not on-demand").isEqualTo(16);
    assertThat(sim.imdsGets(REBALANCE)).isEqualTo(16);
    assertThat(asked[0]).as("after polls 1, 2, 4, 8 and 16").isEqualTo(5);
  }

  @Test
  void aPurchasingOptionAnsweredAfterAFailure_isLearnt() {
    poller.poll();
    sim.failImds(1, 500); // the purchasing option's GET (one attempt)
    poller.afterPoll();
    assertThat(sim.imdsGets(LIFE_CYCLE)).isEqualTo(1);

    pollAsTheAgentDoes(); // notices read: still unknown; then asked again
    pollAsTheAgentDoes();

    assertThat(sim.imdsGets(LIFE_CYCLE)).isEqualTo(2);
    assertThat(sim.imdsGets(SPOT)).as("on-demand known after the second poll").isEqualTo(2);
  }
}
