package dev.drainguard.drain;

/** Where the controller stands; see DESIGN.md "The controller's phases". */
public enum Phase {
  /** Not being terminated; the target lifecycle state is polled. */
  IN_SERVICE,
  /** IMDS reads Terminated; the lifecycle action is not active yet (deregistration). */
  AWAITING_ACTION,
  /** The action is active and the queues hold data: heartbeating. */
  HOLDING,
  /** The queues stayed empty for the quiet period; running the before-complete command. */
  DRAINED,
  /** The action was completed by this agent (CONTINUE, or by policy). Terminal. */
  COMPLETED,
  /** The action vanished after it was active, or never became active. Terminal. */
  LOST,
  /** The deadline came with data queued and policy expire: heartbeats stopped. Terminal. */
  EXPIRED,
  /**
   * Policy retain sent ABANDON: the instance waits in Terminating:Retained, outside desired
   * capacity and with no time limit, until its queues drain and the agent terminates it.
   */
  RETAINED,
  /** A spot interruption notice: nothing can delay it. Terminal. */
  INTERRUPTED;

  public boolean terminal() {
    return this == COMPLETED || this == LOST || this == EXPIRED || this == INTERRUPTED;
  }
}
