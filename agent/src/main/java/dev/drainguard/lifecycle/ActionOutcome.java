package dev.drainguard.lifecycle;

/** How Auto Scaling answered a heartbeat or complete call. */
public enum ActionOutcome {
  ACCEPTED,
  /**
   * HTTP 400 ValidationError "No active Lifecycle Action found with instance ID …": the action is
   * not active yet (termination just started) or is gone (timed out or completed elsewhere).
   */
  NO_ACTIVE_ACTION
}
