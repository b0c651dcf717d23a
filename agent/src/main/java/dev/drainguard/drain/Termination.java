package dev.drainguard.drain;

import dev.drainguard.drain.Event.CallResult;
import dev.drainguard.drain.Intent.CallKind;
import dev.drainguard.lifecycle.ActionOutcome;
import dev.drainguard.lifecycle.GroupMembership;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.net.JitteredBackoff;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The termination flow once it is noticed: wait for the action to become active, hold it with
 * heartbeats while the queues hold data, and complete it once they are confirmed empty. "No active
 * Lifecycle Action" is a question put to DescribeAutoScalingInstances, never an answer by itself.
 */
final class Termination {

  private static final Logger log = LoggerFactory.getLogger(DrainController.class);

  /**
   * Retention's pace while the instance moves into Terminating:Retained: a few calls in the two
   * minutes it may take.
   */
  static final Duration ACTION_RETRY = Duration.ofSeconds(5);

  /**
   * After a failed call to the lifecycle API, how soon to try again: well inside the shortest
   * heartbeat timeout (30 s), so a passing fault never lets the hook time out.
   */
  static final Duration CALL_RETRY = Duration.ofSeconds(5);

  private final DrainState state;
  private final DrainSettings settings;
  private final Retention retention;
  private final Confirmation confirmation;
  private final RandomGenerator random;
  private String completeReason;

  /** "Not active yet" answers in a row: how far the jittered back-off has grown. */
  private int notActiveYet;

  private final AtDeadline deadline;

  /** Set when a "no active action" answer is being explained by DescribeAutoScalingInstances. */
  private String askingWhy;

  /** The first answer Describe could not explain (e.g. InService while IMDS says Terminated). */
  private Instant unexplainedSince;

  Termination(
      DrainState state,
      DrainSettings settings,
      Retention retention,
      Confirmation confirmation,
      RandomGenerator random) {
    this.random = random;
    this.deadline = new AtDeadline(state, settings, confirmation, retention, this::complete);
    this.state = state;
    this.settings = settings;
    this.retention = retention;
    this.confirmation = confirmation;
  }

  /** Evaluates the flow at {@code now} for the phases this class owns. */
  void evaluate(Instant now) {
    switch (state.phase) {
      case AWAITING_ACTION -> awaiting(now);
      case HOLDING, DRAINED -> holding(now);
      default -> {}
    }
  }

  private void awaiting(Instant now) {
    if (!now.isBefore(state.deadline)) {
      deadline.reached(now);
      return;
    }
    if (state.releaseReason != null && confirmation.releaseStands(now)) {
      if (confirmation.releaseConfirmed(now)) {
        complete(now, state.releaseReason);
      }
    }
    state.calls.start(CallKind.HEARTBEAT, now, state.out);
  }

  private void holding(Instant now) {
    if (!now.isBefore(state.deadline) && settings.deadlinePolicy() == DeadlinePolicy.EXPIRE) {
      deadline.reached(now); // heartbeats stop: the hook's DefaultResult applies at its timeout
      return;
    }
    heartbeatIfDue(now); // also while a complete or an abandon is being retried
    if (state.releaseReason != null) {
      if (confirmation.releaseStands(now) && confirmation.releaseConfirmed(now)) {
        complete(now, state.releaseReason);
      }
      return;
    }
    if (!now.isBefore(state.deadline)) {
      deadline.reached(now);
      return;
    }
    if (state.holdReason != null) {
      return;
    }
    if (state.phase == Phase.DRAINED && state.commandRunning) {
      return; // its end restarts the quiet period
    }
    if (!confirmation.drained(now)) {
      if (state.phase == Phase.DRAINED && !state.snapshot.empty()) {
        state.phase = Phase.HOLDING;
        log.info(
            "queues hold data again, holding {} probes={}",
            state.ref,
            DrainState.describe(state.snapshot));
      }
      return;
    }
    if (state.phase == Phase.HOLDING) {
      state.phase = Phase.DRAINED;
      state.drainedAt = now;
      log.info(
          "queues drained {} emptyFor={} quietPeriod={} confirmed by a rescan and fresh readings",
          state.ref,
          Duration.between(state.evidence.lastNotEmpty(), now),
          settings.quietPeriod());
    }
    if (settings.beforeCompleteCommand().isPresent() && !state.commandRan) {
      state.commandRunning = true;
      state.out.add(
          new Intent.RunCommand(
              "before-complete",
              settings.beforeCompleteCommand().get(),
              state.commandEnv(Phase.DRAINED),
              settings.commandTimeout()));
      return;
    }
    complete(now, "queues drained");
  }

  /**
   * The before-complete command ended: what it wrote must be seen, so the quiet period restarts.
   */
  void onCommandEnded(Instant now, CommandRunner.CommandResult r) {
    state.commandRunning = false;
    state.commandRan = true;
    if (!r.ok()) {
      state.lastError =
          "before-complete command "
              + (r.timedOut() ? "timed out" : "failed with exit " + r.exitCode())
              + (r.error() == null ? "" : ": " + r.error());
    }
    state.evidence.restartQuietPeriod(now);
    if (state.phase == Phase.DRAINED) {
      state.phase = Phase.HOLDING;
    }
    log.info(
        "before-complete command ended {} ok={}; queues must stay empty for the quiet period again",
        state.ref,
        r.ok());
  }

  void heartbeatIfDue(Instant now) {
    if (state.lastHeartbeat != null
        && now.isBefore(state.lastHeartbeat.plus(state.heartbeatEvery))) {
      return;
    }
    // Also while Auto Scaling is being asked why an answer was "No active": a describe that is
    // throttled must not stop the heartbeats (the back-off paces them meanwhile).
    state.calls.start(CallKind.HEARTBEAT, now, state.out);
  }

  /** When a heartbeat is next owed, while this flow sends them. */
  Optional<Instant> heartbeatDue() {
    boolean sending =
        state.phase == Phase.AWAITING_ACTION
            || state.phase == Phase.HOLDING
            || state.phase == Phase.DRAINED;
    if (!sending || state.lastHeartbeat == null) {
      return Optional.empty();
    }
    return Optional.of(state.lastHeartbeat.plus(state.heartbeatEvery));
  }

  /** How a call this flow made ended. */
  void onCall(CallKind kind, Instant sentAt, CallResult result, Instant now) {
    switch (kind) {
      case HEARTBEAT -> onHeartbeat(sentAt, result, now);
      case CONTINUE -> onContinue(result, now);
      case DESCRIBE_INSTANCE -> onDescribed(sentAt, result, now);
      default -> {}
    }
  }

  private void onHeartbeat(Instant sentAt, CallResult result, Instant now) {
    if (result instanceof CallResult.Failed f) {
      state.error("heartbeat for " + state.ref, f.message());
      state.calls.coolDown(CallKind.HEARTBEAT, now.plus(CALL_RETRY));
      return;
    }
    if (!(result instanceof CallResult.Answered a)) {
      return;
    }
    if (a.outcome() == ActionOutcome.ACCEPTED) {
      state.heartbeats++;
      state.lastHeartbeat = sentAt; // the timeout restarted no earlier than the call was sent
      unexplainedSince = null;
      notActiveYet = 0;
      if (state.phase == Phase.AWAITING_ACTION) {
        state.actionActiveSince = now;
        // The action started with the hook as it was then, which may differ from the notice's.
        state.hookRereadWanted = true;
        state.phase = Phase.HOLDING;
        log.info(
            "lifecycle action active, holding {} probes={} heartbeatEvery={}",
            state.ref,
            DrainState.describe(state.snapshot),
            state.heartbeatEvery);
      } else {
        log.info(
            "heartbeat sent {} count={} queuedBytes={} forecast=\"{}\" next={}",
            state.ref,
            state.heartbeats,
            state.snapshot.totalBytes(),
            state.forecast.describe(),
            sentAt.plus(state.heartbeatEvery));
      }
      return;
    }
    backOff(now);
    askWhyNotActive(now, "heartbeat");
  }

  /**
   * After "No active": the next heartbeat and complete wait a jittered pause, so that a fleet that
   * scales in together does not ask in step; capped so the first heartbeat after the action becomes
   * active comes within a third of the hook's current timeout.
   */
  private void backOff(Instant now) {
    Duration pause =
        JitteredBackoff.NOT_ACTIVE_YET
            .cappedAt(state.hook.heartbeatTimeout().dividedBy(3))
            .delay(++notActiveYet, random);
    state.calls.coolDown(CallKind.HEARTBEAT, now.plus(pause));
    state.calls.coolDown(CallKind.CONTINUE, now.plus(pause));
    log.debug("lifecycle action not active {} nextTryIn={}", state.ref, pause);
  }

  private void onContinue(CallResult result, Instant now) {
    if (result instanceof CallResult.Failed f) {
      state.error("complete(CONTINUE) for " + state.ref, f.message());
      state.calls.coolDown(CallKind.CONTINUE, now.plus(CALL_RETRY));
      return;
    }
    if (result instanceof CallResult.Answered a && a.outcome() == ActionOutcome.ACCEPTED) {
      state.end(now, Phase.COMPLETED, LifecycleResult.CONTINUE, completeReason);
      return;
    }
    backOff(now);
    askWhyNotActive(now, "complete");
  }

  /**
   * "No active Lifecycle Action" proves nothing by itself: it is answered while the load balancer
   * deregisters the instance, briefly around the transition, and after the action has ended.
   * DescribeAutoScalingInstances says which.
   */
  void askWhyNotActive(Instant now, String call) {
    askingWhy = call;
    if (state.phase != Phase.AWAITING_ACTION) {
      state.hookRereadWanted = true; // its timeouts may have changed under us
    }
    log.debug("{} found no active lifecycle action {}: asking Auto Scaling why", call, state.ref);
    state.calls.start(CallKind.DESCRIBE_INSTANCE, now, state.out);
  }

  /** Asks again if a describe could not be started (slot busy) when the question came up. */
  void askPending(Instant now) {
    if (askingWhy != null && !state.calls.inFlight(CallKind.DESCRIBE_INSTANCE)) {
      state.calls.start(CallKind.DESCRIBE_INSTANCE, now, state.out);
    }
  }

  boolean asking() {
    return askingWhy != null;
  }

  private void onDescribed(Instant sentAt, CallResult result, Instant now) {
    if (askingWhy == null) {
      return;
    }
    if (result instanceof CallResult.Failed f) {
      // A failed describe is no answer: ask again, never read it as "gone".
      state.error(
          "describe instance to explain a missing lifecycle action " + state.ref, f.message());
      state.calls.coolDown(CallKind.DESCRIBE_INSTANCE, now.plus(CALL_RETRY));
      return;
    }
    if (!(result instanceof CallResult.Described d)) {
      return;
    }
    String lifecycle =
        d.membership().map(GroupMembership::lifecycleState).orElse("gone from the group");
    askingWhy = null;
    if (Retention.RETAINED_STATE.equals(lifecycle)) {
      retention.adopt(now, lifecycle);
      return;
    }
    boolean gone =
        d.membership().isEmpty()
            || lifecycle.equals("Terminating:Proceed")
            || lifecycle.startsWith("Terminated");
    if (gone) {
      state.end(
          now,
          Phase.LOST,
          null,
          "the lifecycle action ended (Auto Scaling: instance "
              + lifecycle
              + "): it timed out, or was completed elsewhere or by an earlier attempt whose"
              + " answer was lost");
      return;
    }
    if (lifecycle.startsWith("Terminating")) {
      unexplainedSince = null; // deregistering, or waiting: not active yet, keep trying
      if (lifecycle.equals("Terminating")) {
        // Still deregistering when asked: the action and its global timeout had not started.
        state.globalFrom = state.globalFrom.isBefore(sentAt) ? sentAt : state.globalFrom;
        state.deadlineWanted = true;
      }
    } else if (unexplainedSince == null) {
      unexplainedSince = now;
    } else if (!now.isBefore(unexplainedSince.plus(settings.actionGrace()))) {
      if (state.phase == Phase.AWAITING_ACTION) {
        backInService(now, lifecycle);
        return;
      }
      state.end(
          now,
          Phase.LOST,
          null,
          "no active lifecycle action for action-grace "
              + settings.actionGrace()
              + " while Auto Scaling says the instance is "
              + lifecycle);
      return;
    }
    log.debug("lifecycle action not active yet {} state={}", state.ref, lifecycle);
  }

  /**
   * The notice was not borne out: for action-grace Auto Scaling has said the instance is not
   * terminating at all (a wrong IMDS answer, a termination cancelled). Back to watching for the
   * next one, rather than ending and watching for nothing.
   */
  private void backInService(Instant now, String lifecycle) {
    log.warn(
        "termination notice not borne out {}: Auto Scaling has said {} for action-grace {};"
            + " back in service",
        state.ref,
        lifecycle,
        settings.actionGrace());
    state.phase = Phase.IN_SERVICE;
    state.noticedAt = null;
    state.deadline = null;
    state.releaseReason = null;
    unexplainedSince = null;
    notActiveYet = 0;
  }

  /** Sends CONTINUE once its slot is free: the step before it confirmed the queues are empty. */
  void complete(Instant now, String reason) {
    if (state.stopping) {
      log.info("not completing while the agent stops {}", state.ref);
      return;
    }
    if (askingWhy != null || state.calls.inFlight(CallKind.CONTINUE)) {
      return;
    }
    completeReason = reason;
    state.calls.start(CallKind.CONTINUE, now, state.out);
  }
}
