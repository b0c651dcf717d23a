package dev.drainguard.drain;

import dev.drainguard.drain.Event.CallResult;
import dev.drainguard.drain.Intent.CallKind;
import dev.drainguard.lifecycle.ActionOutcome;
import dev.drainguard.lifecycle.GroupMembership;
import dev.drainguard.lifecycle.LifecycleResult;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deadline policy {@code retain}: ABANDON so that a group with {@code TerminateHookAbandon=retain}
 * keeps the instance in {@code Terminating:Retained}, confirm that it did, keep draining, and
 * terminate the instance (desired capacity kept) once its queues are confirmed empty.
 */
final class Retention {

  private static final Logger log = LoggerFactory.getLogger(DrainController.class);

  /**
   * After ABANDON, how long the instance may take to show Terminating:Retained before the agent
   * concludes the group does not retain instances.
   */
  static final Duration CONFIRM_LIMIT = Duration.ofMinutes(2);

  static final String RETAINED_STATE = "Terminating:Retained";

  private final DrainState state;
  private final DrainSettings settings;
  private final Confirmation confirmation;
  private Termination termination;
  private boolean abandonSent;
  private boolean confirmed;
  private String terminateReason;

  Retention(DrainState state, DrainSettings settings, Confirmation confirmation) {
    this.state = state;
    this.settings = settings;
    this.confirmation = confirmation;
  }

  /** The flow that explains a "No active Lifecycle Action" answer; set once both exist. */
  void explainedBy(Termination t) {
    this.termination = t;
  }

  /** The deadline came with data queued: ABANDON into retention. */
  void abandon(Instant now) {
    if (state.stopping || abandonSent) {
      return;
    }
    if (state.calls.start(CallKind.ABANDON, now, state.out)) {
      abandonSent = true;
    }
  }

  /**
   * The instance is in Terminating:Retained although this agent did not see its own ABANDON
   * accepted (an earlier agent's, a lost answer, or the hook's DefaultResult): take it over.
   */
  void adopt(Instant now, String lifecycle) {
    confirmed = true;
    state.phase = Phase.RETAINED;
    state.retainedSince = now;
    log.warn(
        "instance found retained {} state={} probes={}: it stays until its queues drain",
        state.ref,
        lifecycle,
        DrainState.describe(state.snapshot));
  }

  /** In RETAINED: confirm the group kept the instance, drain, then terminate it. */
  void evaluate(Instant now) {
    if (state.phase != Phase.RETAINED) {
      return;
    }
    if (!confirmed) {
      state.calls.start(CallKind.DESCRIBE_INSTANCE, now, state.out);
      return;
    }
    if (terminateReason != null || state.stopping) {
      return; // a terminate is in flight
    }
    if (state.releaseReason != null) {
      if (confirmation.releaseStands(now) && confirmation.releaseConfirmed(now)) {
        terminate(now, state.releaseReason);
      }
      return;
    }
    if (state.holdReason != null || state.commandRunning || !confirmation.drained(now)) {
      return;
    }
    if (settings.beforeCompleteCommand().isPresent() && !state.commandRan) {
      state.commandRunning = true;
      state.out.add(
          new Intent.RunCommand(
              "before-complete",
              settings.beforeCompleteCommand().get(),
              state.commandEnv(Phase.RETAINED),
              settings.commandTimeout()));
      return;
    }
    terminate(now, "retained instance drained");
  }

  /** Asks for the terminate once its slot is free; {@link #evaluate} asks again until then. */
  private void terminate(Instant now, String reason) {
    if (state.calls.start(CallKind.TERMINATE, now, state.out)) {
      terminateReason = reason;
    }
  }

  /** How a call this flow made ended. */
  void onCall(CallKind kind, CallResult result, Instant now) {
    switch (kind) {
      case ABANDON -> onAbandon(result, now);
      case DESCRIBE_INSTANCE -> onDescribed(result, now);
      case TERMINATE -> onTerminated(result, now);
      default -> {}
    }
  }

  private void onAbandon(CallResult result, Instant now) {
    if (result instanceof CallResult.Failed f) {
      abandonSent = false;
      state.error("complete(ABANDON) for retention of " + state.ref, f.message());
      state.calls.coolDown(CallKind.ABANDON, now.plus(Termination.CALL_RETRY));
      return;
    }
    if (result instanceof CallResult.Answered a && a.outcome() != ActionOutcome.ACCEPTED) {
      // Not active yet (the load balancer still deregisters: max-hold came first), a blip, or
      // gone (an earlier ABANDON whose answer was lost, a timeout). The group's answer decides:
      // Terminating or Terminating:Wait, ABANDON again; Terminating:Retained, adopt; else LOST.
      abandonSent = false;
      state.calls.coolDown(CallKind.ABANDON, now.plus(Termination.ACTION_RETRY));
      log.warn("ABANDON found no active lifecycle action {}: asking Auto Scaling why", state.ref);
      termination.askWhyNotActive(now, "abandon");
      return;
    }
    state.phase = Phase.RETAINED;
    state.retainedSince = now;
    state.result = LifecycleResult.ABANDON;
    log.warn(
        "deadline reached with data queued, policy=retain sent ABANDON {} probes={}:"
            + " expecting {}",
        state.ref,
        DrainState.describe(state.snapshot),
        RETAINED_STATE);
  }

  private void onDescribed(CallResult result, Instant now) {
    if (state.phase != Phase.RETAINED || confirmed) {
      return;
    }
    if (result instanceof CallResult.Failed f) {
      state.error("describe instance after ABANDON for " + state.ref, f.message());
      state.calls.coolDown(CallKind.DESCRIBE_INSTANCE, now.plus(Termination.CALL_RETRY));
      return;
    }
    if (!(result instanceof CallResult.Described d)) {
      return;
    }
    String lifecycle =
        d.membership().map(GroupMembership::lifecycleState).orElse("gone from the group");
    if (RETAINED_STATE.equals(lifecycle)) {
      confirmed = true;
      log.warn(
          "instance retained {} state={} probes={}: it stays until its queues drain",
          state.ref,
          lifecycle,
          DrainState.describe(state.snapshot));
      return;
    }
    boolean stillMoving = lifecycle.startsWith("Terminating") && !lifecycle.endsWith("Proceed");
    if (stillMoving && now.isBefore(state.retainedSince.plus(CONFIRM_LIMIT))) {
      state.calls.coolDown(CallKind.DESCRIBE_INSTANCE, now.plus(Termination.ACTION_RETRY));
      return;
    }
    state.end(
        now,
        Phase.LOST,
        LifecycleResult.ABANDON,
        "policy retain sent ABANDON but the instance is "
            + lifecycle
            + ", not "
            + RETAINED_STATE
            + ": the group does not retain instances (set its instance lifecycle policy"
            + " TerminateHookAbandon=retain), or the action had already ended");
  }

  private void onTerminated(CallResult result, Instant now) {
    if (result instanceof CallResult.Failed f) {
      state.error("terminate retained instance " + state.ref, f.message());
      state.calls.coolDown(CallKind.TERMINATE, now.plus(Termination.CALL_RETRY));
      // Asked again only through evaluate, which first checks that the queues are still empty
      // (or that an operator's release still stands): data may have come back meanwhile.
      terminateReason = null;
      return;
    }
    state.end(
        now,
        Phase.COMPLETED,
        LifecycleResult.ABANDON,
        terminateReason + "; the agent terminated its retained instance");
  }
}
