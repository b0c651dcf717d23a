package dev.drainguard.sim;

import java.util.Optional;

/**
 * A simulated Auto Scaling group: a name, at most one termination hook, its desired capacity and
 * its instance lifecycle policy.
 */
final class SimGroup {

  private final String name;
  private SimHook terminationHook;
  private boolean retainOnTerminateHookAbandon;
  private int desiredCapacity;

  SimGroup(String name) {
    this.name = name;
  }

  String name() {
    return name;
  }

  Optional<SimHook> terminationHook() {
    return Optional.ofNullable(terminationHook);
  }

  void setTerminationHook(SimHook hook) {
    if (terminationHook != null) {
      throw new IllegalStateException(
          "the simulator supports one termination hook per group: asg="
              + name
              + " already has hook="
              + terminationHook.name());
    }
    this.terminationHook = hook;
  }

  /**
   * PutLifecycleHook for the termination transition: creates the group's termination hook, or
   * replaces the one of the same name (its new HeartbeatTimeout and DefaultResult apply to actions
   * that start from now on). A second hook of another name is refused: one per group here.
   */
  void putTerminationHook(SimHook hook) {
    if (terminationHook != null && !terminationHook.name().equals(hook.name())) {
      throw ApiError.validation(
          "the simulator supports one termination hook per group: asg="
              + name
              + " already has hook="
              + terminationHook.name());
    }
    this.terminationHook = hook;
  }

  /** The instance lifecycle policy {@code RetentionTriggers.TerminateHookAbandon=retain}. */
  boolean retainOnTerminateHookAbandon() {
    return retainOnTerminateHookAbandon;
  }

  void setRetainOnTerminateHookAbandon(boolean retain) {
    retainOnTerminateHookAbandon = retain;
  }

  int desiredCapacity() {
    return desiredCapacity;
  }

  void incrementDesiredCapacity() {
    desiredCapacity++;
  }

  /** Shrinks the desired capacity by one, never below zero. */
  void decrementDesiredCapacity() {
    desiredCapacity = Math.max(0, desiredCapacity - 1);
  }
}
