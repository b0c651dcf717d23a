package dev.drainguard.lifecycle;

import java.util.Objects;

/** Identifies one instance's lifecycle action without its token. */
public record LifecycleHookRef(String groupName, String hookName, String instanceId) {
  public LifecycleHookRef {
    Objects.requireNonNull(groupName, "groupName");
    Objects.requireNonNull(hookName, "hookName");
    Objects.requireNonNull(instanceId, "instanceId");
  }

  @Override
  public String toString() {
    return "hook=" + hookName + " asg=" + groupName + " instance=" + instanceId;
  }
}
