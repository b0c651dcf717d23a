package dev.drainguard.sim;

import java.time.Instant;

/**
 * How and when an instance's termination lifecycle action ended.
 *
 * @param at when it ended: the request time for {@link Kind#COMPLETED}, the deadline itself (not
 *     the time it was observed) for the timeouts
 * @param kind what ended it
 * @param result the result applied, {@code CONTINUE} or {@code ABANDON}
 */
public record ActionEnd(Instant at, Kind kind, String result) {

  /** What ended a lifecycle action. */
  public enum Kind {
    /** CompleteLifecycleAction was called. */
    COMPLETED,
    /** No heartbeat arrived within the hook's HeartbeatTimeout: the DefaultResult applied. */
    HEARTBEAT_TIMEOUT,
    /** The hook's GlobalTimeout passed: the DefaultResult applied. */
    GLOBAL_TIMEOUT
  }
}
