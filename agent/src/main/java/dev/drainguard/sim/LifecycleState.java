package dev.drainguard.sim;

/**
 * The Auto Scaling lifecycle states the simulator models, with their wire names.
 *
 * <p>Only the scale-in path exists so far. {@code Terminating:Retained} (a group whose instance
 * lifecycle policy retains instances on ABANDON) is meant to be added here and reached from {@link
 * SimInstance#stateAfterAction(String)}.
 */
enum LifecycleState {
  IN_SERVICE("InService"),
  /** Termination started; the load balancer is deregistering the instance. */
  TERMINATING("Terminating"),
  /** The termination hook's action is active: heartbeats and complete are accepted. */
  TERMINATING_WAIT("Terminating:Wait"),
  /** The action ended with a result that lets termination go on. */
  TERMINATING_PROCEED("Terminating:Proceed"),
  TERMINATED("Terminated");

  private final String wireName;

  LifecycleState(String wireName) {
    this.wireName = wireName;
  }

  /** The name Auto Scaling uses for this state in API responses. */
  String wireName() {
    return wireName;
  }
}
