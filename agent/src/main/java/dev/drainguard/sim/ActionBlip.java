package dev.drainguard.sim;

import java.time.Duration;
import java.time.Instant;

/**
 * A brief "No active Lifecycle Action" after an action has become active: for {@code length},
 * starting {@code after} the moment it became active, heartbeat and complete are refused with that
 * error although the action is active and its timeouts run, as AWS answers around the transition.
 */
record ActionBlip(Duration after, Duration length) {

  static final ActionBlip NONE = new ActionBlip(Duration.ZERO, Duration.ZERO);

  ActionBlip {
    if (after.isNegative() || length.isNegative()) {
      throw new IllegalArgumentException(
          "action blip must not be negative: after=" + after + " length=" + length);
    }
  }

  /** Whether an action that became active at {@code activeSince} is in its blip at {@code now}. */
  boolean covers(Instant activeSince, Instant now) {
    Instant start = activeSince.plus(after);
    return !length.isZero() && !now.isBefore(start) && now.isBefore(start.plus(length));
  }
}
