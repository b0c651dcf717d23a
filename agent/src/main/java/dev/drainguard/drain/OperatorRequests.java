package dev.drainguard.drain;

import dev.drainguard.lifecycle.LifecycleHookRef;
import java.time.Instant;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An operator's hold and release, as the control socket brings them: what each changes in the
 * drain's state, what is logged, and what the operator is told. Runs on the drain loop's thread,
 * like the controller that owns it; the controller then carries out a release on its tick.
 */
final class OperatorRequests {

  private static final Logger log = LoggerFactory.getLogger(OperatorRequests.class);

  private final DrainState state;
  private final LifecycleHookRef ref;
  private final DeadlinePolicy policy;

  OperatorRequests(DrainState state, LifecycleHookRef ref, DeadlinePolicy policy) {
    this.state = state;
    this.ref = ref;
    this.policy = policy;
  }

  /**
   * An operator's hold: keep the action open even when the queues have drained, until {@link
   * #release} or the deadline policy acts. Allowed before termination too.
   */
  ControlResult hold(String reason, Instant now) {
    if (state.phase.terminal()) {
      return ControlResult.refused(
          "the drain has ended (phase " + state.phase + "): nothing to hold");
    }
    state.holdReason = reason;
    state.holdSince = now;
    // A release not carried out yet (the action not active yet, a complete being retried) is
    // withdrawn: the operator was just told the action stays open.
    state.releaseReason = null;
    state.releaseForced = false;
    if (state.phase == Phase.DRAINED) {
      state.phase = Phase.HOLDING;
    }
    log.warn(
        "operator hold {} phase={} reason=\"{}\" deadline={}",
        ref,
        state.phase,
        reason,
        state.deadline);
    return ControlResult.accepted(
        "holding: the lifecycle action stays open until 'drainguard release' or the deadline"
            + (state.deadline == null
                ? ""
                : " (" + state.deadline + ", policy " + policyName() + ")"));
  }

  /**
   * An operator's release: complete the action now. Refused while data is queued (or a root cannot
   * be read) unless {@code force}; the bytes that a forced release loses are logged.
   */
  ControlResult release(boolean force, String reason, Instant now) {
    if (state.phase.terminal()) {
      return ControlResult.refused(
          "the drain has ended (phase " + state.phase + "): nothing to release");
    }
    if (state.phase == Phase.IN_SERVICE) {
      boolean held = state.holdReason != null;
      clearHold();
      return held
          ? ControlResult.accepted("hold cleared; the instance is not terminating")
          : ControlResult.refused("the instance is not terminating: nothing to release");
    }
    long bytes = state.snapshot.totalBytes();
    if (!state.snapshot.empty() && !force) {
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
    state.releaseForced = force;
    state.releaseReason =
        "released by operator"
            + (force && !state.snapshot.empty() ? " with --force, " + bytes + " bytes lost" : "")
            + (reason == null || reason.isBlank() ? "" : ": " + reason);
    if (force && !state.snapshot.empty()) {
      log.error("operator release --force {} bytesLost={} reason=\"{}\"", ref, bytes, reason);
    } else {
      log.warn("operator release {} reason=\"{}\"", ref, reason);
    }
    state.releasedAt = now;
    String what =
        state.phase == Phase.RETAINED
            ? "the retained instance will be terminated"
            : "CONTINUE will be sent";
    return ControlResult.accepted(
        "released: "
            + what
            + (force ? "" : " once fresh readings confirm the queues are empty")
            + (state.phase == Phase.AWAITING_ACTION
                ? ", as soon as the lifecycle action is active"
                : "")
            + (bytes > 0 ? " (" + bytes + " queued bytes will be lost)" : ""));
  }

  private void clearHold() {
    state.holdReason = null;
    state.holdSince = null;
  }

  private String policyName() {
    return policy.name().toLowerCase(Locale.ROOT);
  }
}
