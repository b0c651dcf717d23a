package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.drainguard.drain.Phase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Adversarial review of the decision core on branch {@code core}: Auto Scaling and IMDS answers,
 * through the real agent and SDK against the simulator. Each test states the promise it checks (the
 * action is never let go while data is queued) and, in a comment, exactly what goes wrong. These
 * tests are expected to FAIL until the cause named in each comment is fixed.
 */
class AdversaryAutoScalingTest {

  static final String HEARTBEAT = "RecordLifecycleActionHeartbeat";
  static final String DESCRIBE = "DescribeAutoScalingInstances";
  static final String COMPLETE = "CompleteLifecycleAction";

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

  /**
   * Attack: a brief "No active Lifecycle Action" blip while HOLDING (AWS gives it around the
   * transition; the simulator's setActionBlip) at the moment DescribeAutoScalingInstances is
   * throttled (a fleet scaling in together throttles Describe* long before it throttles
   * heartbeats).
   *
   * <p>What goes wrong: the heartbeat at +20 s meets the blip; Termination.askWhyNotActive sets
   * {@code askingWhy} and asks Describe, which fails (throttled) and is retried every CALL_RETRY.
   * While {@code askingWhy != null}, Termination.heartbeatIfDue sends no heartbeat at all
   * (Termination.java:161), so for as long as Describe stays throttled the action gets no
   * heartbeat: it times out at HeartbeatTimeout after the last accepted one (+61 s), and the
   * instance is terminated with 4096 bytes queued, while the agent still says HOLDING. Describe
   * failing must never stop the heartbeats of an action that may well be active.
   */
  @Test
  void describeThrottledAfterANoActiveBlip_mustNotStopTheHeartbeats() throws IOException {
    Path file = queued(4096);
    Duration ht = Duration.ofSeconds(60); // heartbeats every 20 s
    h = new ScaleInHarness(ht, Duration.ZERO, root);
    // "No active" for heartbeats from 15 s to 25 s after the action became active: the 20 s one.
    h.sim.setActionBlip(Duration.ofSeconds(15), Duration.ofSeconds(10));
    h.startAgent();
    h.scaleInUntilHolding();
    h.awaitStatus(s -> s.phase() == Phase.HOLDING);
    Instant from = h.clock.instant();
    h.sim.throttleApi(DESCRIBE, from, from.plus(Duration.ofMinutes(5)));

    h.advance(Duration.ofMinutes(3), Duration.ofSeconds(1));

    assertThat(Files.size(file)).isEqualTo(4096);
    assertThat(h.calls(DESCRIBE)).as("Describe was asked, and throttled").isNotEmpty();
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE))
        .as(
            "the action must stay open while 4096 bytes are queued; accepted heartbeats: %s",
            h.calls(HEARTBEAT).stream().filter(c -> c.succeeded()).map(c -> c.at()).toList())
        .isEmpty();
  }

  /**
   * Attack: PutLifecycleHook lowers the HeartbeatTimeout (1 h to 5 min, DefaultResult CONTINUE)
   * while the instance is still deregistering from its load balancer (20 min), i.e. after the agent
   * re-read the hook at the notice but before the lifecycle action starts. A stack update that
   * changes the hook and the group's capacity together does exactly this. The action starts with
   * the new 5 min timeout (the hook is taken when the action starts).
   *
   * <p>What goes wrong: the hook is re-read only when termination is noticed
   * (DrainController.onImds, DrainController.java:200) and on a surprising answer once HOLDING
   * (Termination.askWhyNotActive, Termination.java:242-244: never while AWAITING_ACTION). When the
   * action becomes active the agent keeps heartbeatEvery = 1 h / 3 = 20 min, so the action times
   * out 5 min after it started and Auto Scaling applies CONTINUE with 8 KiB queued. The hook must
   * be read again when the action becomes active (or periodically).
   */
  @Test
  void hookLoweredWhileTheLoadBalancerDeregisters_heartbeatsMustFollowTheNewTimeout()
      throws IOException {
    Path file = queued(8192);
    h = new ScaleInHarness(Duration.ofHours(1), Duration.ofMinutes(20), root);
    h.startAgent();
    h.scaleInUntilHolding();
    assertThat(h.status().phase()).isEqualTo(Phase.AWAITING_ACTION);
    h.advance(Duration.ofMinutes(1), Duration.ofSeconds(5));

    h.sim.putTerminationHook(
        ScaleInHarness.GROUP, ScaleInHarness.HOOK, Duration.ofMinutes(5), "CONTINUE");
    h.advance(Duration.ofMinutes(30), Duration.ofSeconds(10));

    assertThat(Files.size(file)).isEqualTo(8192);
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE))
        .as("the action (5 min HeartbeatTimeout) must not time out while 8 KiB are queued")
        .isEmpty();
    assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);
  }

  /**
   * Attack: IMDS answers "Terminated" once while the instance is InService (then InService again),
   * as a glitching or restarted metadata service may.
   *
   * <p>What goes wrong: the agent goes AWAITING_ACTION; every heartbeat answers "No active", and
   * Describe says InService, which it cannot explain (Termination.onDescribed,
   * Termination.java:298-309): after action-grace (15 min) it ends in LOST, a terminal phase. From
   * then on the agent is inert but still running: ImdsPoller stops reading (its {@code active} is
   * {@code !terminal}, Agent.java:297), so the real scale-in that comes later is never noticed, no
   * heartbeat is sent, and the action times out with the queued data. An instance that Auto Scaling
   * says is InService must send the agent back to IN_SERVICE (or the agent must exit so that it
   * restarts), never leave it LOST for the rest of the instance's life.
   */
  @Test
  void imdsSaysTerminatedOnceThenInService_aLaterRealScaleInIsStillHeld() throws IOException {
    Path file = queued(4096);
    Duration ht = Duration.ofSeconds(60);
    h = new ScaleInHarness(ht, Duration.ZERO, root);
    h.startAgent();
    h.advance(Duration.ofSeconds(2), Duration.ofSeconds(1));
    h.sim.corruptImds(1, "Terminated"); // the next poll's first GET: target-lifecycle-state
    h.advance(Duration.ofSeconds(1));
    h.awaitStatus(s -> s.phase() == Phase.AWAITING_ACTION);
    assertThat(h.sim.lifecycleState(ScaleInHarness.INSTANCE)).isEqualTo("InService");

    h.advance(Duration.ofMinutes(20), Duration.ofSeconds(10));
    Phase after = h.status().phase();

    // Now the real scale-in, with 4096 bytes queued.
    h.sim.terminate(ScaleInHarness.INSTANCE);
    h.advance(Duration.ofMinutes(3), Duration.ofSeconds(5));

    assertThat(Files.size(file)).isEqualTo(4096);
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE))
        .as("the real scale-in must be held (agent phase after the glitch: %s)", after)
        .isEmpty();
  }

  /**
   * Attack: the operator runs {@code drainguard hold} just after the queues were confirmed empty,
   * while the CONTINUE is on its way (Auto Scaling answers it in 3 s).
   *
   * <p>What goes wrong: OperatorRequests.hold (OperatorRequests.java:32-53) does not look at the
   * calls in flight: it accepts ("holding: the lifecycle action stays open until 'drainguard
   * release' or the deadline"), moves DRAINED back to HOLDING, and then the CONTINUE's answer ends
   * the drain in COMPLETED (Termination.onContinue, Termination.java:228-230). The operator, who
   * holds because they know of data the probes cannot see, is told the instance stays while it is
   * being terminated. A hold must be refused (or say "CONTINUE already sent") once a CONTINUE (or
   * an ABANDON, a TerminateInstance) has been sent.
   */
  @Test
  void holdWhileContinueIsInFlight_isAcceptedButTheActionCompletes() throws Exception {
    Path file = queued(10);
    h = new ScaleInHarness(Duration.ofSeconds(60), Duration.ZERO, root);
    h.startAgent();
    h.scaleInUntilHolding();
    h.sim.delayApi(COMPLETE, 1, Duration.ofSeconds(3));
    Files.delete(file);
    h.awaitStatus(s -> s.queues().empty());
    // Move the clock past the quiet period without waiting for the calls in flight to end.
    for (int i = 0; i < 30 && h.calls(COMPLETE).isEmpty(); i++) {
      h.clock.advance(Duration.ofSeconds(1));
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  !h.calls(COMPLETE).isEmpty()
                      || !h.status().evaluatedAt().isBefore(h.clock.instant()));
    }
    assertThat(h.calls(COMPLETE)).as("CONTINUE reached Auto Scaling").hasSize(1);

    MainTest.Run hold = cli("hold", "--reason", "a destination is being fixed");
    h.awaitStatus(s -> s.phase().terminal());

    assertThat(hold.code() == 0 && h.sim.actionEnd(ScaleInHarness.INSTANCE).isPresent())
        .as(
            "hold answered code=%d \"%s\" while the action ended %s (agent phase %s)",
            hold.code(),
            hold.out().strip(),
            h.sim.actionEnd(ScaleInHarness.INSTANCE),
            h.status().phase())
        .isFalse();
  }

  /**
   * Attack: a long load-balancer deregistration (60 min, the most an ELB target group allows) in
   * front of a hook whose global timeout is short (HeartbeatTimeout 60 s: 100 min). Auto Scaling
   * counts the global timeout from the moment the action starts (Terminating:Wait, here at +60
   * min), so the action may be held until +160 min. The queue drains at +120 min.
   *
   * <p>What goes wrong: DrainController.deadlineFrom (DrainController.java:209-216) counts the
   * global timeout from the last IMDS read before the notice, i.e. from the start of the
   * deregistration, not from the start of the action; the hook re-read (onHooks, :266) recomputes
   * it the same way. The deadline falls at +95 min (100 min - 5 min margin), 60 min early: policy
   * expire stops the heartbeats, the action times out at about +96 min, and Auto Scaling applies
   * ABANDON with 4096 bytes queued, 24 minutes before they would have drained. (With policy
   * complete it sends CONTINUE early; with retain, its ABANDON may even land before the action is
   * active, and Retention.onDescribed declares LOST after 2 minutes of Terminating.)
   */
  @Test
  void longDeregistration_theDeadlineCountsFromTheActionStart_notFromTheNotice()
      throws IOException {
    Path file = queued(4096);
    h = new ScaleInHarness(Duration.ofSeconds(60), Duration.ofMinutes(60), root);
    h.startAgent();
    h.scaleInUntilHolding();
    Instant notice = h.clock.instant();
    h.advance(Duration.ofMinutes(120), Duration.ofSeconds(10));

    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE))
        .as(
            "action started at +60 min, global timeout 100 min: it may be held until +160 min;"
                + " agent phase %s, deadline %s (notice %s)",
            h.status().phase(), h.status().deadline(), notice)
        .isEmpty();

    Files.delete(file);
    h.awaitStatus(s -> s.queues().empty());
    h.advance(Duration.ofSeconds(30), Duration.ofSeconds(1));
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE))
        .hasValueSatisfying(e -> assertThat(e.result()).isEqualTo("CONTINUE"));
  }

  MainTest.Run cli(String... args) {
    String[] all = new String[args.length + 2];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "--control-socket";
    all[args.length + 1] = h.socket().toString();
    return MainTest.execute(all);
  }
}
