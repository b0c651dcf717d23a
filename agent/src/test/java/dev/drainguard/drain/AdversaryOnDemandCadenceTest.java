package dev.drainguard.drain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.imds.HttpInstanceMetadata;
import dev.drainguard.imds.InstanceMetadata;
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
 * Adversarial: on an instance IMDS calls on-demand, the README and the commit promise that the spot
 * notices are read once a minute, so that a notice AWS gives anyway "is still seen with over a
 * minute of its two left". {@code ImdsPoller} sets {@code noticesDue} from the clock read after the
 * target read (in {@code poll()}) or after every read of the poll plus the instance-life-cycle read
 * (in {@code afterPoll()}), but compares it with the clock read after only the target read of a
 * later poll, which starts at a fixed rate. Any time the reads take — real IMDS answers take
 * milliseconds, here 2 ms a read — pushes the read one whole poll interval later: 65 s, not 60, at
 * the default 5 s; a notice that appears just after a read is seen with under a minute left.
 *
 * <p>The test clock stands still except that each IMDS read takes 2 ms of it, and the polls start
 * at 0, 5, 10 ... s, as {@code ImdsPoller.run()} starts them (fixed rate).
 */
class AdversaryOnDemandCadenceTest {

  static final String ID = "i-0123456789abcdef0";
  static final Duration READ_TAKES = Duration.ofMillis(2);
  static final Duration EVERY = Duration.ofSeconds(5);

  final MutableClock clock = MutableClock.atNewYear();
  final Instant t0 = clock.instant();
  Simulator sim;
  HttpInstanceMetadata http;
  ImdsPoller poller;

  @BeforeEach
  void start() {
    sim = Simulator.start(clock);
    sim.addGroup("workers");
    sim.addInstance("workers", ID, "eu-west-1", true); // on-demand by default
    http =
        new HttpInstanceMetadata(
            sim.imdsEndpoint(),
            LoopbackGuard.of(true),
            new RetryPolicy(1, Duration.ofMillis(1), Duration.ofMillis(1)),
            Sleeper.NONE);
    InstanceMetadata slow =
        new ForwardingImds(http) {
          @Override
          <T> T read(java.util.function.Supplier<T> op) {
            T t = op.get();
            clock.advance(READ_TAKES);
            return t;
          }
        };
    poller = new ImdsPoller(slow, EVERY, clock, Optional.empty(), () -> true, () -> true, e -> {});
  }

  @AfterEach
  void stop() {
    poller.close();
    sim.close();
  }

  /** Poll number {@code k}, started at its fixed-rate instant, then what follows it. */
  Event.ImdsPolled poll(int k) {
    clock.set(t0.plus(EVERY.multipliedBy(k)));
    Event.ImdsPolled p = poller.poll();
    poller.afterPoll();
    return p;
  }

  @Test
  void onDemand_aNoticeGivenJustAfterARead_isSeenWithinAMinute_withOverAMinuteLeft() {
    poll(0); // notices read, then on-demand learnt
    // just after the poll: a notice IMDS gives although it said on-demand
    sim.setPurchasingOption(ID, "spot");
    Instant given = t0.plusMillis(100);
    Instant at = given.plusSeconds(120);
    sim.spotInterruption(ID, "terminate", at);

    Optional<Instant> seenAt = Optional.empty();
    for (int k = 1; k <= 24 && seenAt.isEmpty(); k++) {
      if (poll(k).interruption().isPresent()) {
        seenAt = Optional.of(t0.plus(EVERY.multipliedBy(k)));
      }
    }

    assertThat(seenAt).isPresent();
    Duration waited = Duration.between(given, seenAt.get());
    Duration left = Duration.between(seenAt.get(), at);
    assertThat(waited)
        .as("seen %s after IMDS gave it, %s before the interruption", waited, left)
        .isLessThanOrEqualTo(ImdsPoller.ON_DEMAND_NOTICES_EVERY);
    assertThat(left).as("left of the two minutes when seen").isGreaterThan(Duration.ofMinutes(1));
  }

  @Test
  void onDemand_theNoticesAreReadOnceAMinute_notOnceEvery65s() {
    sim.setPurchasingOption(ID, "on-demand");
    long before = sim.imdsGets("/latest/meta-data/spot/instance-action");
    for (int k = 0; k <= 24; k++) { // two minutes of polls: 0, 5, ... 120 s
      poll(k);
    }
    // read at 0 (before the option was known), 60 and 120 s: once a minute
    assertThat(sim.imdsGets("/latest/meta-data/spot/instance-action") - before).isEqualTo(3);
  }
}
