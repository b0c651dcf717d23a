package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.drain.DrainStatus;
import dev.drainguard.drain.Phase;
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
 * Jumps of the clock the agent and Auto Scaling share (a suspended or restored VM, a stalled
 * process). Wall-clock steps (NTP) do not reach the agent at all: its timers run on {@code
 * drain.MonotonicClock} (see MonotonicClockTest).
 */
class ClockJumpFaultTest {

  static final String HEARTBEAT = "RecordLifecycleActionHeartbeat";
  static final String COMPLETE = "CompleteLifecycleAction";

  /** HeartbeatTimeout 60 s: heartbeats every 20 s. */
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

  private Instant lastAccepted() {
    return h.calls(HEARTBEAT).stream()
        .filter(ApiCall::succeeded)
        .map(ApiCall::at)
        .reduce((a, b) -> b)
        .orElseThrow();
  }

  @Test
  void forwardJumpInsideTheHeartbeatTimeout_heartbeatsAtOnce_andHoldsOn() throws IOException {
    Path file = queued(100);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.startAgent();
    h.scaleInUntilHolding();
    h.advance(Duration.ofSeconds(5));
    Instant before = lastAccepted();

    h.clock.advance(Duration.ofSeconds(50)); // one jump, 10 s short of the timeout
    h.settle();

    assertThat(lastAccepted()).isEqualTo(h.clock.instant());
    assertThat(Duration.between(before, lastAccepted())).isLessThan(HT);
    h.advance(HT.multipliedBy(2));
    assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE)).isEmpty();
    Files.delete(file);
    h.awaitStatus(s -> s.queues().empty());
    h.advance(Duration.ofSeconds(11), Duration.ofSeconds(1));
    h.awaitStatus(s -> s.phase() == Phase.COMPLETED);
  }

  @Test
  void forwardJumpPastTheHeartbeatTimeout_endsLostWithTheBytes_andSendsNothing()
      throws IOException {
    queued(4096);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.startAgent();
    h.scaleInUntilHolding();

    h.clock.advance(Duration.ofMinutes(10)); // the VM was suspended: the hook timed out meanwhile
    h.settle();

    DrainStatus lost = h.awaitStatus(s -> s.phase() == Phase.LOST);
    assertThat(lost.bytesAtEnd()).isEqualTo(4096);
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE))
        .hasValueSatisfying(e -> assertThat(e.kind()).isEqualTo(ActionEnd.Kind.HEARTBEAT_TIMEOUT));
    assertThat(h.calls(COMPLETE)).isEmpty();
    int calls = h.sim.calls().size();
    h.advance(HT.multipliedBy(2));
    assertThat(h.sim.calls()).hasSize(calls); // no retry loop
  }

  /**
   * The agent's timers are instants: after the shared clock steps back, the instants of its last
   * calls lie ahead, and it waits for the clock to pass them before calling again. It never lets
   * the action lapse meanwhile (Auto Scaling's timers stepped back alike) and never completes
   * early. In production the agent's clock is monotonic, so only the whole machine being restored
   * or suspended can do this.
   */
  @Test
  void backwardJump_theAgentHoldsOn_andCompletesOnceTheClockHasCaughtUp() throws IOException {
    Path file = queued(100);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.startAgent();
    h.scaleInUntilHolding();
    h.advance(Duration.ofSeconds(30));
    Instant deadline = h.status().deadline().orElseThrow();
    Instant noticed = h.status().noticedAt().orElseThrow();
    Instant beforeJump = h.clock.instant();

    h.clock.set(beforeJump.minus(Duration.ofMinutes(5)));
    h.settle();
    Files.delete(file);
    h.awaitStatus(s -> s.queues().empty());
    h.advance(Duration.ofMinutes(4));

    assertThat(h.status().phase()).isIn(Phase.HOLDING, Phase.DRAINED);
    assertThat(h.status().deadline()).contains(deadline); // not moved by the jump
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE)).isEmpty();

    h.advance(Duration.ofMinutes(2));
    DrainStatus done = h.awaitStatus(s -> s.phase() == Phase.COMPLETED);
    // CONTINUE waited for the clock to pass the instant of the agent's last Auto Scaling call.
    assertThat(done.endedAt()).hasValueSatisfying(t -> assertThat(t).isAfterOrEqualTo(noticed));
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE))
        .hasValueSatisfying(e -> assertThat(e.kind()).isEqualTo(ActionEnd.Kind.COMPLETED));
  }
}
