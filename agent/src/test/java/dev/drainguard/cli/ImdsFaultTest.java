package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.drainguard.drain.DrainStatus;
import dev.drainguard.drain.Phase;
import dev.drainguard.sim.ActionEnd;
import dev.drainguard.sim.ApiCall;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * IMDS faults against the real agent: a revoked token, 5xx bursts, connections refused for minutes,
 * answers slower than the read timeout, malformed answers. In each the agent keeps running, says
 * what is wrong in status, never completes with data queued, and drains normally once IMDS is back.
 */
class ImdsFaultTest {

  static final String COMPLETE = "CompleteLifecycleAction";
  static final String HEARTBEAT = "RecordLifecycleActionHeartbeat";

  /** HeartbeatTimeout 60 s: heartbeats every 20 s, global timeout 100 min. */
  static final Duration HT = Duration.ofSeconds(60);

  @TempDir Path root;
  ScaleInHarness h;

  @AfterEach
  void tearDown() {
    if (h != null) {
      h.close();
    }
  }

  private Path queued(int bytes) throws IOException {
    Path dir = Files.createDirectories(root.resolve("0/out-s3"));
    return Files.write(dir.resolve("00001.pq"), new byte[bytes]);
  }

  /** Drains the queue and expects CONTINUE after the 10 s quiet period. */
  private void drainAndExpectCompletion(Path file) throws IOException {
    Files.delete(file);
    h.awaitStatus(s -> s.queues().empty());
    h.advance(Duration.ofSeconds(11), Duration.ofSeconds(1));
    DrainStatus done = h.awaitStatus(s -> s.phase() == Phase.COMPLETED);
    assertThat(done.bytesAtEnd()).isZero();
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE))
        .hasValueSatisfying(e -> assertThat(e.kind()).isEqualTo(ActionEnd.Kind.COMPLETED));
  }

  @Test
  void tokenRevokedMidRun_aNewTokenIsTakenAndTheDrainGoesOn() throws IOException {
    Path file = queued(100);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.startAgent();
    h.advance(Duration.ofSeconds(5));

    // In service: the next read of the target state gets 401 and must take a new token.
    h.sim.revokeImdsTokens();
    h.scaleInUntilHolding();
    assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);

    // Holding: the spot notice reads get 401 too.
    h.sim.revokeImdsTokens();
    h.advance(Duration.ofSeconds(30));

    assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);
    assertThat(h.status().lastError()).isEmpty(); // a 401 is routine: renewed, not an error
    assertThat(h.calls(COMPLETE)).isEmpty();
    drainAndExpectCompletion(file);
  }

  @Test
  void a5xxBurst_delaysTheNoticeByTheBurstOnly_andIsReported() throws IOException {
    Path file = queued(100);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.startAgent();
    h.advance(Duration.ofSeconds(2));

    h.sim.failImds(12, 500);
    h.sim.terminate(ScaleInHarness.INSTANCE);
    h.advance(Duration.ofSeconds(1));
    assertThat(h.status().phase()).isEqualTo(Phase.IN_SERVICE);
    assertThat(h.status().lastError()).hasValueSatisfying(e -> assertThat(e).contains("500"));

    // Each 1 s poll uses up a few of the errors; within seconds the notice gets through.
    h.advance(Duration.ofSeconds(10), Duration.ofSeconds(1));
    assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE)).isEmpty();
    drainAndExpectCompletion(file);
  }

  @Test
  void connectionRefusedForMinutes_holdsOnceBack_andCountsTheDeadlineFromTheLastGoodRead()
      throws IOException {
    Path file = queued(100);
    // HeartbeatTimeout 10 min, so that the action outlives a 3 minute outage.
    Duration ht = Duration.ofMinutes(10);
    h = new ScaleInHarness(ht, Duration.ZERO, root);
    h.startAgent();
    h.advance(Duration.ofSeconds(10));
    Instant lastGoodRead = h.clock.instant();

    h.sim.setImdsRefusing(true);
    h.advance(Duration.ofSeconds(1));
    h.sim.terminate(ScaleInHarness.INSTANCE);
    h.advance(Duration.ofMinutes(3));

    DrainStatus blind = h.status();
    assertThat(blind.phase()).isEqualTo(Phase.IN_SERVICE); // nothing to go on: keeps asking
    assertThat(blind.lastError())
        .hasValueSatisfying(e -> assertThat(e).contains("target-lifecycle-state"));
    assertThat(h.calls(COMPLETE)).isEmpty();

    h.sim.setImdsRefusing(false);
    h.advance(Duration.ofSeconds(2), Duration.ofSeconds(1));
    DrainStatus holding = h.awaitStatus(s -> s.phase() == Phase.HOLDING);

    // The global timeout runs from the scale-in, which the agent could not see: its deadline
    // counts from its last good read, not from the late notice (global 100 x 10 min, margin 5m).
    Duration global = ht.multipliedBy(100);
    assertThat(holding.deadline()).contains(lastGoodRead.plus(global).minus(Duration.ofMinutes(5)));
    assertThat(holding.noticedAt()).hasValueSatisfying(n -> assertThat(n).isAfter(lastGoodRead));
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE)).isEmpty();
    drainAndExpectCompletion(file);
  }

  @Test
  void answersSlowerThanTheReadTimeout_failThatRead_andTheHoldGoesOn() throws IOException {
    Path file = queued(100);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    // a spot instance: its notices are read at every poll while holding
    h.sim.setPurchasingOption(ScaleInHarness.INSTANCE, "spot");
    h.startAgent();
    h.scaleInUntilHolding();
    h.advance(Duration.ofSeconds(5));
    long accepted = h.accepted(HEARTBEAT);

    // Every attempt of the next read waits past the adapter's 2 s read timeout.
    h.sim.delayImds(4, Duration.ofMillis(2500));
    h.clock.advance(Duration.ofSeconds(1));
    awaitEvaluated(Duration.ofSeconds(40));

    // The read runs beside the drain loop: its failure is reported once its attempts are over.
    await()
        .atMost(Duration.ofSeconds(40))
        .until(
            () -> h.status().lastError().orElse("").toLowerCase(Locale.ROOT).contains("timed out"));
    assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);
    h.advance(HT);
    assertThat(h.accepted(HEARTBEAT)).isGreaterThan(accepted + 2);
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE)).isEmpty();
    drainAndExpectCompletion(file);
  }

  /**
   * Guards against spot notice reads holding up heartbeats on the drain loop's one thread: with
   * every IMDS answer slower than the read timeout, one poll (two reads of 4 attempts) takes 20 s,
   * and a heartbeat due meanwhile used to wait for it. Each slow answer moves the shared clock by
   * its latency, so the delay shows on the clock the agent and the simulator keep.
   */
  @Test
  void answersSlowerThanTheReadTimeoutForLong_neverDelayAHeartbeat() throws IOException {
    Path file = queued(100);
    // HeartbeatTimeout 30 s, the shortest Auto Scaling allows: a heartbeat every 10 s.
    Duration every = Duration.ofSeconds(10);
    h = new ScaleInHarness(Duration.ofSeconds(30), Duration.ZERO, root);
    // a spot instance: its notices are read at every poll while holding
    h.sim.setPurchasingOption(ScaleInHarness.INSTANCE, "spot");
    h.startAgent();
    h.scaleInUntilHolding();
    h.advance(Duration.ofSeconds(2));
    assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);

    Duration latency = Duration.ofMillis(2500);
    List<String> slow = new CopyOnWriteArrayList<>();
    h.sim.afterImdsDelay(
        (path, d) -> {
          slow.add(path);
          h.clock.advance(d);
        });
    h.sim.delayImds(Integer.MAX_VALUE, latency);
    Instant from = h.clock.instant();
    // Only the slow answers move the clock now (one second first, for the next poll to be due):
    // wait for three heartbeats after the one that began the hold.
    h.clock.advance(Duration.ofSeconds(1));
    Supplier<List<Instant>> beats =
        () ->
            h.calls(HEARTBEAT).stream()
                .filter(c -> c.succeeded() && !c.at().isBefore(from.minus(every)))
                .map(ApiCall::at)
                .toList();
    await().atMost(Duration.ofSeconds(90)).until(() -> beats.get().size() >= 4);
    h.sim.delayImds(0, Duration.ZERO);
    h.sim.afterImdsDelay((path, d) -> {});

    assertThat(slow)
        .hasSizeGreaterThan(8) // more than one whole poll
        .allMatch(p -> p.endsWith("spot/instance-action") || p.endsWith("rebalance"));
    // The agent decides at its tick and the clock moves in jumps of one latency: a heartbeat goes
    // out at most one jump after it is due, and reaches the simulator at most one jump later.
    Duration bound = every.plus(latency.multipliedBy(2));
    List<Instant> at = beats.get();
    System.out.printf(
        "heartbeats while every IMDS answer is %d ms late (%d slow answers): %s%n",
        latency.toMillis(), slow.size(), at);
    for (int i = 1; i < at.size(); i++) {
      assertThat(Duration.between(at.get(i - 1), at.get(i)))
          .as("heartbeats at %s", at)
          .isLessThanOrEqualTo(bound);
    }
    assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> h.status().lastError().orElse("").contains("timed out"));
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE)).isEmpty();
    drainAndExpectCompletion(file);
  }

  @Test
  void malformedAnswers_areErrorsTheAgentSurvives() throws IOException {
    Path file = queued(100);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.startAgent();

    // Garbage for the target state is not "Terminated": the agent stays in service.
    h.sim.corruptImds(6, "Terminat\u0000<html>");
    h.advance(Duration.ofSeconds(3), Duration.ofSeconds(1));
    assertThat(h.status().phase()).isEqualTo(Phase.IN_SERVICE);
    assertThat(h.calls(HEARTBEAT)).isEmpty();

    h.scaleInUntilHolding();
    // Truncated JSON for the spot notices: an error in status, nothing else changes.
    h.sim.corruptImds(4, "{\"action\":\"termin");
    h.advance(Duration.ofSeconds(3), Duration.ofSeconds(1));
    assertThat(h.status().lastError())
        .hasValueSatisfying(e -> assertThat(e).contains("malformed JSON"));
    assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);
    h.advance(HT);
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE)).isEmpty();
    drainAndExpectCompletion(file);
  }

  /** Waits, longer than the harness does, until the agent has evaluated the clock's instant. */
  private void awaitEvaluated(Duration limit) {
    Instant now = h.clock.instant();
    long giveUp = System.nanoTime() + limit.toNanos();
    while (h.status().evaluatedAt().isBefore(now)) {
      assertThat(System.nanoTime() - giveUp).as("agent stuck: " + h.status()).isNegative();
      LockSupport.parkNanos(1_000_000);
    }
  }
}
