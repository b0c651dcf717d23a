package dev.drainguard.lifecycle;

import java.util.List;
import java.util.Optional;

/**
 * The subset of the Auto Scaling API that the agent calls.
 *
 * <p>Throttling and server errors are retried inside implementations. "No active Lifecycle Action
 * found" is not an error: it is reported as {@link ActionOutcome#NO_ACTIVE_ACTION}. Anything else
 * that still fails throws {@link LifecycleApiException}, whose {@link LifecycleApiException#kind()}
 * tells a throttled or unavailable API (ask again later; never an answer) from a refusal.
 */
public interface LifecycleActions {

  /** RecordLifecycleActionHeartbeat by instance id: restarts the hook's heartbeat timeout. */
  ActionOutcome heartbeat(LifecycleHookRef ref);

  /** CompleteLifecycleAction by instance id. */
  ActionOutcome complete(LifecycleHookRef ref, LifecycleResult result);

  /**
   * The group's lifecycle hooks for the {@code autoscaling:EC2_INSTANCE_TERMINATING} transition.
   */
  List<TerminationHook> terminationHooks(String groupName);

  /**
   * One termination hook read afresh (DescribeLifecycleHooks by group and name): its current
   * HeartbeatTimeout, GlobalTimeout and DefaultResult, which PutLifecycleHook may have changed
   * since it was last read. Empty when the group has no termination hook of that name (deleted,
   * renamed, or not created yet); a failed read throws, it is never empty.
   */
  default Optional<TerminationHook> terminationHook(String groupName, String hookName) {
    return terminationHooks(groupName).stream().filter(h -> h.name().equals(hookName)).findFirst();
  }

  /**
   * DescribeAutoScalingInstances for one instance; empty when it is in no group (or already gone).
   * A describe that fails throws {@link LifecycleApiException}: it is never read as empty.
   */
  Optional<GroupMembership> describeInstance(String instanceId);

  /**
   * TerminateInstanceInAutoScalingGroup on this instance without decrementing the desired capacity:
   * how a retained instance ({@code Terminating:Retained}) that has drained lets go.
   */
  void terminateInstance(String instanceId);

  /** SetInstanceProtection: whether Auto Scaling may choose this instance for scale-in. */
  void setProtection(String groupName, String instanceId, boolean protectedFromScaleIn);
}
