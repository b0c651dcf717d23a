package dev.drainguard.lifecycle;

/**
 * DescribeAutoScalingInstances for this instance: its group, lifecycle state and whether it is
 * protected from scale-in.
 */
public record GroupMembership(
    String groupName, String lifecycleState, boolean protectedFromScaleIn) {

  /** An instance that is not protected from scale-in. */
  public GroupMembership(String groupName, String lifecycleState) {
    this(groupName, lifecycleState, false);
  }
}
