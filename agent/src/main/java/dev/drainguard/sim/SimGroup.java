package dev.drainguard.sim;

import java.util.Optional;

/** A simulated Auto Scaling group: a name and at most one termination hook. */
final class SimGroup {

  private final String name;
  private SimHook terminationHook;

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
}
