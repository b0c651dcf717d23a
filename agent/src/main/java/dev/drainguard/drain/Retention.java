package dev.drainguard.drain;

import dev.drainguard.lifecycle.ActionOutcome;
import dev.drainguard.lifecycle.GroupMembership;
import dev.drainguard.lifecycle.LifecycleActions;
import dev.drainguard.lifecycle.LifecycleApiException;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.queue.QueueProbe;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deadline policy {@code retain}: ABANDON so that a group with {@code TerminateHookAbandon=retain}
 * keeps the instance in {@code Terminating:Retained}, confirm that it did, keep draining, and
 * terminate the instance (desired capacity kept) once its queues have drained.
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
  private final LifecycleActions api;
  private final QueueProbe queues;
  private final CommandRunner commands;
  private boolean confirmed;
  private boolean looked;

  Retention(
      DrainState state,
      DrainSettings settings,
      LifecycleActions api,
      QueueProbe queues,
      CommandRunner commands) {
    this.state = state;
    this.settings = settings;
    this.api = api;
    this.queues = queues;
    this.commands = commands;
  }

  /** The deadline came with data queued: ABANDON into retention. */
  void abandon(Instant now) {
    if (now.isBefore(state.nextCall) || state.stopping) {
      return;
    }
    ActionOutcome outcome;
    try {
      outcome = api.complete(state.ref, LifecycleResult.ABANDON);
    } catch (LifecycleApiException e) {
      state.error("complete(ABANDON) for retention of " + state.ref, e);
      state.nextCall = now.plus(DrainController.CALL_RETRY);
      return;
    }
    if (outcome != ActionOutcome.ACCEPTED) {
      // Gone: an earlier ABANDON whose answer was lost, or a timeout that applied ABANDON.
      // Either may have retained the instance; the group's own answer decides (confirm()).
      log.warn(
          "ABANDON found no active lifecycle action {}: checking whether the instance was"
              + " retained anyway",
          state.ref);
    }
    state.phase = Phase.RETAINED;
    state.retainedSince = now;
    state.result = LifecycleResult.ABANDON;
    state.nextCall = now;
    log.warn(
        "deadline reached with data queued, policy=retain sent ABANDON {} queuedBytes={}:"
            + " expecting {}",
        state.ref,
        state.snapshot.totalBytes(),
        RETAINED_STATE);
    tick(now);
  }

  /**
   * The lifecycle action is not active: when the instance is already in Terminating:Retained
   * (abandoned while no agent watched it, before a restart, or by the hook's DefaultResult ABANDON
   * at a timeout), take it over as after our own ABANDON: drain, then terminate it. The agent keeps
   * no state, so this is how a restarted agent finds a retained instance again.
   *
   * @return true when the drain goes on in RETAINED
   */
  boolean adoptIfRetained(Instant now) {
    String lifecycle;
    try {
      lifecycle =
          api.describeInstance(state.ref.instanceId())
              .map(GroupMembership::lifecycleState)
              .orElse("gone from the group");
    } catch (LifecycleApiException e) {
      state.error("describe instance to look for retention of " + state.ref, e);
      return false;
    }
    looked = true;
    if (!RETAINED_STATE.equals(lifecycle)) {
      return false;
    }
    confirmed = true;
    state.phase = Phase.RETAINED;
    state.retainedSince = now;
    state.nextCall = now;
    log.warn(
        "instance found retained {} state={} queuedBytes={}: it stays until its queues drain",
        state.ref,
        lifecycle,
        state.snapshot.totalBytes());
    tick(now);
    return true;
  }

  /** True once {@link #adoptIfRetained} has had an answer from Auto Scaling. */
  boolean looked() {
    return looked;
  }

  /** In RETAINED: confirm the group kept the instance, drain, then terminate it. */
  void tick(Instant now) {
    if (!confirmed) {
      confirm(now);
      return;
    }
    if (state.releaseReason != null && state.releaseStands(queues.snapshot())) {
      terminate(now, state.releaseReason);
      return;
    }
    if (!state.drainedFor(now, settings.quietPeriod()) || state.holdReason != null) {
      return;
    }
    if (settings.beforeCompleteCommand().isPresent() && !state.commandRan) {
      if (state.command == null) {
        state.command =
            commands.start(
                "before-complete",
                settings.beforeCompleteCommand().get(),
                state.commandEnv(Phase.RETAINED),
                settings.commandTimeout());
        return;
      }
      if (!state.command.isDone()) {
        return;
      }
      CommandRunner.CommandResult r = state.command.join();
      if (!r.ok()) {
        state.lastError =
            "before-complete command "
                + (r.timedOut() ? "timed out" : "failed with exit " + r.exitCode());
      }
      state.command = null;
      state.commandRan = true;
      state.emptySince = now; // what the command wrote must be seen: the quiet period runs again
      return;
    }
    state.observe(queues.snapshot());
    if (state.snapshot.empty()) {
      terminate(now, "retained instance drained");
    }
  }

  private void confirm(Instant now) {
    if (now.isBefore(state.nextCall)) {
      return;
    }
    String lifecycle;
    try {
      lifecycle =
          api.describeInstance(state.ref.instanceId())
              .map(GroupMembership::lifecycleState)
              .orElse("gone from the group");
    } catch (LifecycleApiException e) {
      state.error("describe instance after ABANDON for " + state.ref, e);
      state.nextCall = now.plus(DrainController.CALL_RETRY);
      return;
    }
    if (RETAINED_STATE.equals(lifecycle)) {
      confirmed = true;
      log.warn(
          "instance retained {} state={} queuedBytes={}: it stays until its queues drain",
          state.ref,
          lifecycle,
          state.snapshot.totalBytes());
      return;
    }
    boolean stillMoving = lifecycle.startsWith("Terminating") && !lifecycle.endsWith("Proceed");
    if (stillMoving && now.isBefore(state.retainedSince.plus(CONFIRM_LIMIT))) {
      state.nextCall = now.plus(DrainController.ACTION_RETRY);
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

  private void terminate(Instant now, String reason) {
    if (now.isBefore(state.nextCall) || state.stopping) {
      return;
    }
    try {
      api.terminateInstance(state.ref.instanceId());
    } catch (LifecycleApiException e) {
      state.error("terminate retained instance " + state.ref, e);
      state.nextCall = now.plus(DrainController.CALL_RETRY);
      return;
    }
    state.end(
        now,
        Phase.COMPLETED,
        LifecycleResult.ABANDON,
        reason + "; the agent terminated its retained instance");
  }
}
