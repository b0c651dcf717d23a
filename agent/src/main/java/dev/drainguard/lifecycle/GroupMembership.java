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

  /**
   * Where a termination stands, by the lifecycle state Auto Scaling reports. What answers "No
   * active Lifecycle Action": {@link Stage#DEREGISTERING} and {@link Stage#WAITING} mean keep
   * trying; {@link Stage#RETAINED} means the instance is kept after ABANDON; {@link
   * Stage#PROCEEDING} and {@link Stage#TERMINATED} (like an instance in no group, which {@link
   * LifecycleActions#describeInstance} reports as empty) mean the action is gone.
   */
  public enum Stage {
    /** {@code InService}, or any state off the termination path (Standby, Pending, …). */
    NOT_TERMINATING,
    /** {@code Terminating}: termination started, the load balancer deregisters the instance. */
    DEREGISTERING,
    /** {@code Terminating:Wait}: the termination action is active (or about to be). */
    WAITING,
    /** {@code Terminating:Retained}: abandoned and retained by the group's lifecycle policy. */
    RETAINED,
    /** {@code Terminating:Proceed}: the action ended; termination goes on. */
    PROCEEDING,
    /** {@code Terminated}. */
    TERMINATED
  }

  public Stage stage() {
    return switch (lifecycleState == null ? "" : lifecycleState) {
      case "Terminating" -> Stage.DEREGISTERING;
      case "Terminating:Wait" -> Stage.WAITING;
      case "Terminating:Retained" -> Stage.RETAINED;
      case "Terminating:Proceed" -> Stage.PROCEEDING;
      case "Terminated" -> Stage.TERMINATED;
      default -> Stage.NOT_TERMINATING;
    };
  }
}
