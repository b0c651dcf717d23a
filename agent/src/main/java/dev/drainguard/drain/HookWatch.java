package dev.drainguard.drain;

import dev.drainguard.drain.Event.CallResult;
import dev.drainguard.drain.Intent.CallKind;
import dev.drainguard.lifecycle.LifecycleHookRef;
import dev.drainguard.lifecycle.TerminationHook;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The termination hook as Auto Scaling has it now: read again when termination is noticed, when the
 * action becomes active and when an answer is surprising, so that heartbeats and the deadline
 * follow its current HeartbeatTimeout and global timeout; and, while the group has none, looked for
 * until one is made.
 */
final class HookWatch {

  private static final Logger log = LoggerFactory.getLogger(DrainController.class);

  /** While the group has no termination hook, how often its hooks are read again. */
  static final Duration HOOK_LOOK_EVERY = Duration.ofMinutes(5);

  /** While the group has no termination hook, how often that is said at ERROR. */
  static final Duration HOOK_ERROR_EVERY = Duration.ofHours(1);

  private Instant nextHookLook = Instant.MIN;
  private Instant nextHookError = Instant.MIN;

  private final DrainState state;
  private final Duration configuredInterval;
  private final Runnable deadlineNow;

  /**
   * @param configuredInterval heartbeat-interval; the one in force is min(it, HeartbeatTimeout/3)
   * @param deadlineNow computes the deadline again once the hook's timeouts changed
   */
  HookWatch(DrainState state, Duration configuredInterval, Runnable deadlineNow) {
    this.state = state;
    this.configuredInterval = configuredInterval;
    this.deadlineNow = deadlineNow;
  }

  /** When the missing hook is next looked for, while it is missing. */
  Optional<Instant> nextLook() {
    return state.hookMissing ? Optional.of(nextHookLook) : Optional.empty();
  }

  /**
   * While the group has no termination hook, scale-in is not held: said at ERROR once an hour, and
   * the hooks are read again every {@link #HOOK_LOOK_EVERY}.
   */
  void lookForMissingHook(Instant now) {
    if (!state.hookMissing) {
      return;
    }
    if (!now.isBefore(nextHookError)) {
      nextHookError = now.plus(HOOK_ERROR_EVERY);
      log.error(
          "{} asg={} instance={}", missingHook(), state.ref.groupName(), state.ref.instanceId());
    }
    if (!now.isBefore(nextHookLook) && state.calls.start(CallKind.DESCRIBE_HOOKS, now, state.out)) {
      nextHookLook = now.plus(HOOK_LOOK_EVERY);
    }
  }

  String missingHook() {
    return "no termination hook on group "
        + state.ref.groupName()
        + (state.ref.hookName().isEmpty() ? "" : " named " + state.ref.hookName())
        + ": scale-in will not be held";
  }

  void onHooks(CallResult result, Instant now) {
    if (result instanceof CallResult.Failed f) {
      state.error("describe lifecycle hooks of asg=" + state.ref.groupName(), f.message());
      state.calls.coolDown(CallKind.DESCRIBE_HOOKS, now.plus(Termination.CALL_RETRY));
      state.hookRereadWanted = true; // asked again when cooled down
      return;
    }
    if (!(result instanceof CallResult.Hooks h)) {
      return;
    }
    Optional<TerminationHook> current = chooseHook(h.hooks());
    if (current.isEmpty()) {
      if (!state.hookMissing) {
        log.error(
            "termination hook {} is no longer on asg={}: Auto Scaling will not wait for this"
                + " instance",
            state.ref.hookName(),
            state.ref.groupName());
      }
      state.hookMissing = true;
      state.lastError = missingHook();
      return;
    }
    if (state.hookMissing) {
      state.hookMissing = false;
      state.ref =
          new LifecycleHookRef(state.ref.groupName(), current.get().name(), state.ref.instanceId());
      state.lastError = null;
      log.warn(
          "termination hook found {} heartbeatTimeout={}: scale-in is held from now on",
          state.ref,
          current.get().heartbeatTimeout());
    }
    TerminationHook before = state.hook;
    state.hook = current.get();
    state.hookReadAt = now;
    state.heartbeatEvery =
        DrainController.heartbeatInterval(configuredInterval, state.hook.heartbeatTimeout());
    if (!before.equals(state.hook)) {
      if (state.noticedAt != null && state.phase != Phase.RETAINED) {
        state.deadlineWanted = true;
        deadlineNow.run();
      }
      log.warn(
          "termination hook changed since start {} heartbeatTimeout={} globalTimeout={}"
              + " defaultResult={} heartbeatEvery={} deadline={}",
          state.ref,
          state.hook.heartbeatTimeout(),
          state.hook.globalTimeout(),
          state.hook.defaultResult(),
          state.heartbeatEvery,
          state.deadline);
    }
  }

  /** The hook by its configured name, or the group's only termination hook. */
  private Optional<TerminationHook> chooseHook(List<TerminationHook> hooks) {
    String name = state.ref.hookName();
    if (!name.isEmpty()) {
      return hooks.stream().filter(x -> x.name().equals(name)).findFirst();
    }
    if (hooks.size() > 1) {
      state.lastError =
          "asg="
              + state.ref.groupName()
              + " has "
              + hooks.size()
              + " termination hooks: choose one with --hook-name";
      return Optional.empty();
    }
    return hooks.stream().findFirst();
  }
}
