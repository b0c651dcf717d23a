package dev.drainguard.sim;

/**
 * The Auto Scaling lifecycle states the simulator models, with their wire names.
 *
 * <p>Only the termination path is modelled. {@code Terminating:Retained} is reached from {@link
 * SimInstance#stateAfterAction(String)} when the group's instance lifecycle policy retains
 * instances whose termination action is abandoned.
 */
enum LifecycleState {
  IN_SERVICE("InService"),
  /** Termination started; the load balancer is deregistering the instance. */
  TERMINATING("Terminating"),
  /** The termination hook's action is active: heartbeats and complete are accepted. */
  TERMINATING_WAIT("Terminating:Wait"),
  /** The action ended with a result that lets termination go on. */
  TERMINATING_PROCEED("Terminating:Proceed"),
  /**
   * The action was abandoned and the group retains such instances: no timeout applies; only
   * TerminateInstanceInAutoScalingGroup moves it on, to {@code Terminated}.
   */
  TERMINATING_RETAINED("Terminating:Retained"),
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
