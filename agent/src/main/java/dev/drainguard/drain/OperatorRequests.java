package dev.drainguard.drain;

import dev.drainguard.lifecycle.LifecycleHookRef;
import dev.drainguard.operator.Caller;
import dev.drainguard.operator.LogBudget;
import dev.drainguard.operator.OperatorText;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An operator's hold and release, as the control socket brings them: what each changes in the
 * drain's state, what is logged (with the caller the kernel named), what is kept across a restart,
 * and what the operator is told. Runs on the drain loop's thread, like the controller that owns it;
 * the controller then carries out a release on its next step.
 */
final class OperatorRequests {

  private static final Logger log = LoggerFactory.getLogger(OperatorRequests.class);

  /**
   * Hold and release lines a burst may write before they are rationed: a script holding in a loop
   * must not fill the disk (20,000 holds once wrote 43.7 MB). A forced release that loses data is
   * always logged.
   */
  static final int LOG_BURST = 20;

  /** Then one line per this; the next line written says how many were left out. */
  static final Duration LOG_REFILL = Duration.ofSeconds(3);

  private final DrainState state;
  private final LifecycleHookRef ref;
  private final DeadlinePolicy policy;
  private final LogBudget logBudget = new LogBudget(LOG_BURST, LOG_REFILL);
  private HoldStore store = HoldStore.NONE;

  /** The controller publishes the changed state and carries out a release on its next step. */
  OperatorRequests(DrainState state, LifecycleHookRef ref, DeadlinePolicy policy) {
    this.state = state;
    this.ref = ref;
    this.policy = policy;
  }

  /**
   * Keeps holds in {@code holds} from now on and takes up the hold an earlier run saved there, if
   * it was taken on this instance. Called once, before the first tick: a restarted agent must hold
   * before it can see drained queues. A saved hold that cannot be read holds too (unknown is never
   * "released"), and says so.
   */
  void restore(HoldStore holds, Instant now) {
    this.store = holds;
    Optional<HoldStore.Saved> saved;
    try {
      saved = holds.load();
    } catch (IOException | RuntimeException e) {
      String problem = OperatorText.clean(e.getMessage(), 200);
      state.holdReason =
          "a saved operator hold could not be read ("
              + problem
              + "); holding until 'drainguard release'";
      state.holdSince = now;
      log.warn(
          "saved operator hold unreadable {} file={} error=\"{}\"; holding until released",
          ref,
          holds.file().orElse(null),
          problem);
      return;
    }
    if (saved.isEmpty() || state.phase.terminal()) {
      return;
    }
    HoldStore.Saved h = saved.get();
    if (!h.instanceId().equals(ref.instanceId())) {
      log.info(
          "saved operator hold ignored {}: it was taken on instance={} (an image's state"
              + " directory?)",
          ref,
          h.instanceId());
      forget();
      return;
    }
    state.holdReason = by(h.caller()) + h.reason() + " (kept across a restart)";
    state.holdSince = h.since();
    log.warn(
        "operator hold restored {} uid={} user={} since={} reason=\"{}\"",
        ref,
        h.caller().uid(),
        h.caller().user(),
        h.since(),
        h.reason());
  }

  /** As {@link #hold(Caller, String, Instant)}, for a caller nobody identified. */
  ControlResult hold(String reason, Instant now) {
    return hold(Caller.UNKNOWN, reason, now);
  }

  /**
   * An operator's hold: keep the action open even when the queues have drained, until {@link
   * #release} or the deadline policy acts. Allowed before termination too. Saved, when there is a
   * state directory, so that it outlives a restart.
   */
  ControlResult hold(Caller caller, String reason, Instant now) {
    String text = OperatorText.reason(reason);
    if (state.phase.terminal()) {
      note(now, "operator hold refused {} uid={} user={} phase={} reason=\"{}\"", caller, text);
      return ControlResult.refused(
          "the drain has ended (phase " + state.phase + "): nothing to hold");
    }
    state.holdReason = by(caller) + text;
    state.holdSince = now;
    // A release not carried out yet (the action not active yet, a complete being retried) is
    // withdrawn: the operator was just told the action stays open.
    state.releaseReason = null;
    state.releaseForced = false;
    if (state.phase == Phase.DRAINED) {
      state.phase = Phase.HOLDING;
    }
    String kept = save(new HoldStore.Saved(caller, text, now, ref.instanceId()));
    long dropped = logBudget.take(now);
    if (dropped >= 0) {
      log.warn(
          "operator hold {} uid={} user={} phase={} reason=\"{}\" deadline={} saved={}{}",
          ref,
          caller.uid(),
          caller.user(),
          state.phase,
          text,
          state.deadline,
          kept.isEmpty(),
          suppressed(dropped));
    }
    return ControlResult.accepted(
        "holding: the lifecycle action stays open until 'drainguard release' or the deadline"
            + (state.deadline == null
                ? ""
                : " (" + state.deadline + ", policy " + policyName() + ")")
            + kept);
  }

  /** As {@link #release(Caller, boolean, String, Instant)}, for a caller nobody identified. */
  ControlResult release(boolean force, String reason, Instant now) {
    return release(Caller.UNKNOWN, force, reason, now);
  }

  /**
   * An operator's release: complete the action now. Refused while data is queued (or a root cannot
   * be read) unless {@code force}; the bytes that a forced release loses are logged with who asked.
   */
  ControlResult release(Caller caller, boolean force, String reason, Instant now) {
    String text = OperatorText.reason(reason);
    if (state.phase.terminal()) {
      note(now, "operator release refused {} uid={} user={} phase={} reason=\"{}\"", caller, text);
      return ControlResult.refused(
          "the drain has ended (phase " + state.phase + "): nothing to release");
    }
    if (state.phase == Phase.IN_SERVICE) {
      boolean held = state.holdReason != null;
      clearHold();
      note(now, "operator release {} uid={} user={} phase={} reason=\"{}\"", caller, text);
      return held
          ? ControlResult.accepted("hold cleared; the instance is not terminating")
          : ControlResult.refused("the instance is not terminating: nothing to release");
    }
    long bytes = state.snapshot.totalBytes();
    if (!state.snapshot.empty() && !force) {
      note(
          now,
          "operator release refused {} uid={} user={} phase={} reason=\"{}\" (data queued)",
          caller,
          text);
      return ControlResult.refused(
          String.format(
              "refused: %d bytes in %d files are still queued%s; 'drainguard release --force'"
                  + " completes anyway and loses them",
              bytes,
              state.snapshot.totalFiles(),
              state.snapshot.anyError()
                  ? " and some queue probes cannot tell (an unreadable root, a failed probe)"
                  : ""));
    }
    clearHold();
    boolean loses = force && !state.snapshot.empty();
    state.releaseForced = force;
    state.releaseReason =
        "released by operator"
            + (caller.equals(Caller.UNKNOWN) ? "" : " " + caller.describe())
            + (loses ? " with --force, " + bytes + " bytes lost" : "")
            + ": "
            + text;
    if (loses) {
      // never rationed: this is the line that says who lost data
      log.error(
          "operator release --force {} uid={} user={} bytesLost={} reason=\"{}\"",
          ref,
          caller.uid(),
          caller.user(),
          bytes,
          text);
    } else {
      note(now, "operator release {} uid={} user={} phase={} reason=\"{}\"", caller, text);
    }
    state.releasedAt = now;
    return ControlResult.accepted(outcome(force, bytes));
  }

  /**
   * What the release will do: the decision core carries it out on its next step, after fresh
   * readings confirm the queues are empty unless it was forced (the socket waits a little for the
   * end and says how it went).
   */
  private String outcome(boolean force, long bytes) {
    String when =
        (force ? "" : " once fresh readings confirm the queues are empty")
            + (state.phase == Phase.AWAITING_ACTION
                ? ", as soon as the lifecycle action is active"
                : "");
    String lost = bytes > 0 ? " (" + bytes + " queued bytes will be lost)" : "";
    if (state.phase == Phase.RETAINED) {
      return "released: the retained instance will be terminated" + when + lost;
    }
    return "released: CONTINUE will be sent" + when + lost;
  }

  /** One rationed WARN line about a request: ref, uid, user, phase, reason, then any suffix. */
  private void note(Instant now, String format, Caller caller, String text) {
    long dropped = logBudget.take(now);
    if (dropped >= 0) {
      log.warn(
          format + "{}", ref, caller.uid(), caller.user(), state.phase, text, suppressed(dropped));
    }
  }

  /** "by alice (uid 1000): ", or nothing for a caller nobody identified. */
  private static String by(Caller caller) {
    return caller.equals(Caller.UNKNOWN) ? "" : "by " + caller.describe() + ": ";
  }

  private static String suppressed(long dropped) {
    return dropped > 0 ? " (" + dropped + " earlier hold/release lines left out)" : "";
  }

  /** Saves the hold; "" when saved, else what the operator should know. */
  private String save(HoldStore.Saved hold) {
    if (store.file().isEmpty()) {
      return "; NOT kept across a restart of the agent (no state-directory)";
    }
    try {
      store.save(hold);
      return "";
    } catch (IOException | RuntimeException e) {
      log.warn(
          "operator hold not saved {} file={} error=\"{}\": a restart of the agent forgets it",
          ref,
          store.file().orElse(null),
          OperatorText.clean(String.valueOf(e.getMessage()), 200));
      return "; NOT kept across a restart of the agent (" + store.file().get() + " not written)";
    }
  }

  private void clearHold() {
    state.holdReason = null;
    state.holdSince = null;
    forget();
  }

  private void forget() {
    try {
      store.clear();
    } catch (IOException | RuntimeException e) {
      log.warn(
          "saved operator hold not deleted {} file={} error=\"{}\": a restart would hold again",
          ref,
          store.file().orElse(null),
          OperatorText.clean(String.valueOf(e.getMessage()), 200));
    }
  }

  private String policyName() {
    return policy.name().toLowerCase(Locale.ROOT);
  }
}
