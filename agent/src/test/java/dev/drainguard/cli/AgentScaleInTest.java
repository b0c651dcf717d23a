package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.drainguard.config.Setting;
import dev.drainguard.drain.DrainStatus;
import dev.drainguard.drain.Phase;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.sim.ActionEnd;
import dev.drainguard.sim.ApiCall;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real agent (real AWS SDK clients, real inotify watcher) against the simulator over loopback,
 * on a clock the test moves: each test is one property of DESIGN.md's drain loop.
 */
class AgentScaleInTest {

  static final String HEARTBEAT = "RecordLifecycleActionHeartbeat";
  static final String COMPLETE = "CompleteLifecycleAction";

  /** HeartbeatTimeout 60 s: the agent heartbeats every 20 s (a third). */
  static final Duration HT = Duration.ofSeconds(60);

  @TempDir Path root;
  ScaleInHarness h;

  @AfterEach
  void tearDown() {
    if (h != null) {
      h.close();
    }
  }

  private Path queueFile(String name, int bytes) throws IOException {
    Path dir = root.resolve("0/out-s3");
    Files.createDirectories(dir);
    return Files.write(dir.resolve(name), new byte[bytes]);
  }

  @Test
  void noCompleteWhileAnyByteIsQueued_evenOverManyHeartbeatTimeouts() throws IOException {
    Path last = queueFile("00001.pq", 1);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.startAgent();
    h.scaleInUntilHolding();

    h.advance(HT.multipliedBy(5));

    assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);
    assertThat(h.calls(COMPLETE)).isEmpty();
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE)).isEmpty();
    // 5 minutes at one heartbeat per 20 s, plus the first one that found the action active.
    assertThat(h.accepted(HEARTBEAT)).isBetween(15L, 17L);

    Files.delete(last);
    h.awaitStatus(s -> s.queues().empty());
    h.advance(Duration.ofSeconds(11));
    h.awaitStatus(s -> s.phase() == Phase.COMPLETED);
    assertThat(h.calls(COMPLETE)).hasSize(1);
  }

  @Test
  void completesWithinQuietPeriodPlusOneSecondOfTheLastFileLeaving() throws IOException {
    Path file = queueFile("00001.pq", 4096);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.startAgent();
    h.scaleInUntilHolding();
    h.advance(Duration.ofSeconds(30));

    Instant lastFileLeft = h.clock.instant();
    Files.delete(file);
    h.awaitStatus(s -> s.queues().empty());
    // One step short of the 10 s quiet period, nothing may be sent...
    h.advance(Duration.ofSeconds(9));
    assertThat(h.calls(COMPLETE)).isEmpty();
    // ...and within the next second the action is completed.
    h.advance(Duration.ofSeconds(1));
    DrainStatus done = h.awaitStatus(s -> s.phase() == Phase.COMPLETED);

    ActionEnd end = h.sim.actionEnd(ScaleInHarness.INSTANCE).orElseThrow();
    assertThat(end.kind()).isEqualTo(ActionEnd.Kind.COMPLETED);
    assertThat(end.result()).isEqualTo("CONTINUE");
    assertThat(Duration.between(lastFileLeft, end.at()))
        .isGreaterThanOrEqualTo(Duration.ofSeconds(10))
        .isLessThanOrEqualTo(Duration.ofSeconds(11));
    assertThat(done.result()).contains(LifecycleResult.CONTINUE);
    assertThat(done.bytesAtEnd()).isZero();
    assertThat(h.sim.lifecycleState(ScaleInHarness.INSTANCE)).isEqualTo("Terminated");
  }

  @Test
  void noActiveActionBeforeTerminatingWait_isRetriedUntilTheActionIsActive() throws IOException {
    queueFile("00001.pq", 10);
    h = new ScaleInHarness(HT, Duration.ofSeconds(30), root);
    h.startAgent();
    h.sim.terminate(ScaleInHarness.INSTANCE);
    h.advance(Duration.ofSeconds(12));

    assertThat(h.status().phase()).isEqualTo(Phase.AWAITING_ACTION);
    assertThat(h.calls(HEARTBEAT))
        .isNotEmpty()
        .allSatisfy(c -> assertThat(c.errorCode()).isEqualTo("ValidationError"));

    // active at 30 s; the retries back off with jitter, at most a third of the 60 s timeout apart
    h.advance(Duration.ofSeconds(45));

    assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);
    assertThat(h.calls(HEARTBEAT).get(h.calls(HEARTBEAT).size() - 1).httpStatus()).isEqualTo(200);
    assertThat(h.sim.lifecycleState(ScaleInHarness.INSTANCE)).isEqualTo("Terminating:Wait");
  }

  @Test
  void afterTheActionVanishes_heartbeatsStopAndThePhaseIsLost() throws IOException {
    queueFile("00001.pq", 10);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.startAgent();
    h.scaleInUntilHolding();
    h.advance(Duration.ofSeconds(5));

    // The agent stalls past the heartbeat timeout (a jump the agent cannot heartbeat through):
    // the hook times out with its DefaultResult and the next heartbeat finds no action.
    h.clock.advance(HT.plusSeconds(1));
    h.settle();
    DrainStatus lost = h.awaitStatus(s -> s.phase() == Phase.LOST);
    int heartbeatsWhenLost = h.calls(HEARTBEAT).size();

    h.advance(HT.multipliedBy(2));

    assertThat(h.calls(HEARTBEAT)).hasSize(heartbeatsWhenLost);
    assertThat(h.calls(COMPLETE)).isEmpty();
    assertThat(lost.endReason()).hasValueSatisfying(r -> assertThat(r).contains("ended"));
    assertThat(lost.bytesAtEnd()).isEqualTo(10);
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE))
        .hasValueSatisfying(e -> assertThat(e.kind()).isEqualTo(ActionEnd.Kind.HEARTBEAT_TIMEOUT));
  }

  @Test
  void aRestartedAgentInTheMiddleOfHolding_resumesHeartbeats() throws IOException {
    Path file = queueFile("00001.pq", 10);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    Agent first = h.startAgent();
    h.scaleInUntilHolding();
    h.advance(Duration.ofSeconds(30));
    first.close();
    long beforeRestart = h.accepted(HEARTBEAT);

    h.clock.advance(Duration.ofSeconds(15));
    h.startAgent();
    h.advance(Duration.ofSeconds(2));

    assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);
    h.advance(HT.multipliedBy(2));
    assertThat(h.accepted(HEARTBEAT)).isGreaterThan(beforeRestart + 5);
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE)).isEmpty();

    Files.delete(file);
    h.awaitStatus(s -> s.queues().empty());
    h.advance(Duration.ofSeconds(11));
    h.awaitStatus(s -> s.phase() == Phase.COMPLETED);
  }

  @Test
  void closeDuringHolding_sendsNoComplete() throws IOException {
    queueFile("00001.pq", 10);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    Agent agent = h.startAgent();
    h.scaleInUntilHolding();
    h.advance(Duration.ofSeconds(25));

    agent.close();

    assertThat(h.calls(COMPLETE)).isEmpty();
    assertThat(h.sim.lifecycleState(ScaleInHarness.INSTANCE)).isEqualTo("Terminating:Wait");
  }

  @Test
  void aMissingQueueRoot_blocksCompletionAndIsReported() throws IOException {
    Path missing = root.resolve("other-root");
    Path present = root.resolve("present");
    Files.createDirectories(present);
    h = new ScaleInHarness(HT, Duration.ZERO, present, missing);
    h.startAgent();
    h.scaleInUntilHolding();

    h.advance(Duration.ofMinutes(2));

    DrainStatus s = h.status();
    assertThat(s.phase()).isEqualTo(Phase.HOLDING);
    assertThat(s.queues().empty()).isFalse();
    assertThat(s.queues().roots())
        .anySatisfy(
            r -> {
              assertThat(r.root()).isEqualTo(missing);
              assertThat(r.error())
                  .hasValueSatisfying(e -> assertThat(e).contains("does not exist"));
            });
    assertThat(h.calls(COMPLETE)).isEmpty();

    // Once the root exists (and is empty), the drain completes after the quiet period.
    Files.createDirectories(missing);
    await().atMost(Duration.ofSeconds(10)).until(() -> h.status().queues().empty());
    h.advance(Duration.ofSeconds(11));
    h.awaitStatus(st -> st.phase() == Phase.COMPLETED);
  }

  @Test
  void deadlinePolicyComplete_sendsContinueWithDataQueuedAndSaysSo() throws IOException {
    queueFile("00001.pq", 123);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.set(Setting.DEADLINE_POLICY, "complete").set(Setting.MAX_HOLD, "2m");
    h.startAgent();
    h.scaleInUntilHolding();

    h.advance(Duration.ofMinutes(2));

    DrainStatus s = h.awaitStatus(st -> st.phase() == Phase.COMPLETED);
    assertThat(s.bytesAtEnd()).isEqualTo(123);
    assertThat(s.endReason()).hasValueSatisfying(r -> assertThat(r).contains("deadline"));
    ApiCall complete = h.calls(COMPLETE).get(0);
    assertThat(complete.params()).containsEntry("LifecycleActionResult", "CONTINUE");
  }

  @Test
  void deadlinePolicyExpire_stopsHeartbeatingAndSendsNothing() throws IOException {
    queueFile("00001.pq", 123);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.set(Setting.MAX_HOLD, "2m");
    h.startAgent();
    h.scaleInUntilHolding();

    h.advance(Duration.ofMinutes(2));
    DrainStatus s = h.awaitStatus(st -> st.phase() == Phase.EXPIRED);
    long heartbeats = h.calls(HEARTBEAT).size();
    h.advance(HT.multipliedBy(2));

    assertThat(h.calls(HEARTBEAT)).hasSize((int) heartbeats);
    assertThat(h.calls(COMPLETE)).isEmpty();
    assertThat(s.bytesAtEnd()).isEqualTo(123);
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE))
        .hasValueSatisfying(e -> assertThat(e.result()).isEqualTo("ABANDON"));
  }
}
