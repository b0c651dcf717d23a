package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.drain.Phase;
import dev.drainguard.sim.ApiCall;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14: the agent asks Auto Scaling again before it believes anything surprising, through the
 * real agent against the simulator: a hook changed after start, a deregistration longer than any
 * fixed grace, a brief "No active Lifecycle Action", a throttled describe at that moment, and a
 * hook created after the agent started. In each, 8 KiB stay queued and the action must never time
 * out.
 */
class AutoScalingChangesTest {

  static final String HEARTBEAT = "RecordLifecycleActionHeartbeat";
  static final String COMPLETE = "CompleteLifecycleAction";
  static final String DESCRIBE = "DescribeAutoScalingInstances";

  @TempDir Path root;

  private void queued() throws IOException {
    Files.write(root.resolve("00001.pq"), new byte[8192]);
  }

  private static List<Instant> accepted(ScaleInHarness h) {
    return h.calls(HEARTBEAT).stream().filter(ApiCall::succeeded).map(ApiCall::at).toList();
  }

  /** Issue 14, reproduction 1: the hook lowered from 1 h to 5 min after the agent started. */
  @Test
  void aHookLoweredAfterStart_isReadAgainAtTheNotice_andHeartbeatsFollowIt() throws IOException {
    queued();
    try (ScaleInHarness h = new ScaleInHarness(Duration.ofHours(1), Duration.ZERO, root)) {
      h.startAgent();
      h.advance(Duration.ofSeconds(5));
      h.sim.putTerminationHook(
          ScaleInHarness.GROUP, ScaleInHarness.HOOK, Duration.ofMinutes(5), "CONTINUE");
      h.scaleInUntilHolding();
      h.advance(Duration.ofMinutes(30), Duration.ofSeconds(5));

      assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);
      assertThat(h.status().hook().heartbeatTimeout()).isEqualTo(Duration.ofMinutes(5));
      assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE)).as("the action timed out").isEmpty();
      List<Instant> at = accepted(h);
      for (int i = 1; i < at.size(); i++) {
        assertThat(Duration.between(at.get(i - 1), at.get(i)))
            .isLessThanOrEqualTo(Duration.ofSeconds(100).plusSeconds(5));
      }
    }
  }

  /**
   * Issue 14, reproduction 2: deregistration 20 min, HeartbeatTimeout 5 min, action-grace 15 min.
   */
  @Test
  void aDeregistrationLongerThanTheGrace_isHeld_fromTheMomentTheActionIsActive()
      throws IOException {
    queued();
    try (ScaleInHarness h =
        new ScaleInHarness(Duration.ofMinutes(5), Duration.ofMinutes(20), root)) {
      h.startAgent();
      h.sim.terminate(ScaleInHarness.INSTANCE);
      h.advance(Duration.ofMinutes(19), Duration.ofSeconds(5));
      assertThat(h.status().phase()).isEqualTo(Phase.AWAITING_ACTION);
      h.advance(Duration.ofMinutes(20), Duration.ofSeconds(5));

      assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);
      assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE)).isEmpty();
      Instant active = h.status().actionActiveSince().orElseThrow();
      // the first heartbeat came within one back-off step (at most a third of 5 min) of the
      // action becoming active at 20 min
      Instant start = accepted(h).get(0);
      assertThat(start).isBefore(Instant.parse("2026-01-01T00:20:00Z").plusSeconds(105));
      assertThat(active).isAfterOrEqualTo(start);
      // while deregistering, far fewer calls than one every 5 s
      long tries = h.calls(HEARTBEAT).stream().filter(c -> c.at().isBefore(start)).count();
      assertThat(tries).isLessThan(240);
    }
  }

  /** Issue 14, hazard 3: a brief "No active Lifecycle Action" while holding proves nothing. */
  @Test
  void aNoActiveBlipWhileHolding_leavesItHolding() throws IOException {
    queued();
    try (ScaleInHarness h = new ScaleInHarness(Duration.ofSeconds(60), Duration.ZERO, root)) {
      h.sim.setActionBlip(Duration.ofSeconds(15), Duration.ofSeconds(30));
      h.startAgent();
      h.scaleInUntilHolding();
      h.advance(Duration.ofMinutes(5), Duration.ofSeconds(1));
      assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);
      assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE)).isEmpty();
      assertThat(h.calls(COMPLETE)).isEmpty();
    }
  }

  /** Issue 14, hazard 4: the describe that would explain the blip is throttled. */
  @Test
  void aThrottledDescribe_isNeverReadAsGone() throws IOException {
    queued();
    try (ScaleInHarness h = new ScaleInHarness(Duration.ofSeconds(60), Duration.ZERO, root)) {
      h.sim.setActionBlip(Duration.ofSeconds(15), Duration.ofSeconds(30));
      Instant t0 = h.clock.instant();
      h.sim.throttleApi(DESCRIBE, t0.plusSeconds(10), t0.plusSeconds(50));
      h.startAgent();
      h.scaleInUntilHolding();
      h.advance(Duration.ofMinutes(5), Duration.ofSeconds(1));
      assertThat(h.status().phase()).isIn(Phase.HOLDING, Phase.RETAINED);
      assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE)).isEmpty();
    }
  }

  /** Issue 14, hazard 5: a hook made by a separate resource 2 min after the agent started. */
  @Test
  void aHookCreatedAfterStart_isFound_andTheScaleInIsHeld() throws IOException {
    queued();
    try (ScaleInHarness h =
        new ScaleInHarness(false, Duration.ofSeconds(60), Duration.ZERO, root)) {
      h.startAgent();
      assertThat(h.status().lastError())
          .hasValueSatisfying(
              e -> assertThat(e).contains("no termination hook on group " + ScaleInHarness.GROUP));
      h.advance(Duration.ofMinutes(2));
      h.sim.putTerminationHook(
          ScaleInHarness.GROUP, ScaleInHarness.HOOK, Duration.ofSeconds(60), "ABANDON");
      h.advance(Duration.ofMinutes(4));
      assertThat(h.status().ref().hookName()).isEqualTo(ScaleInHarness.HOOK);
      h.scaleInUntilHolding();
      h.advance(Duration.ofMinutes(3));
      assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);
      assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE)).isEmpty();
    }
  }
}
