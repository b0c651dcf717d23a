package dev.drainguard.check;

import dev.drainguard.lifecycle.ActionOutcome;
import dev.drainguard.lifecycle.GroupMembership;
import dev.drainguard.lifecycle.LifecycleActions;
import dev.drainguard.lifecycle.LifecycleHookRef;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.lifecycle.TerminationHook;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The Auto Scaling port as the checks use it: remembers which IAM action each call needs, which
 * ones answered and which one was in flight when a call failed, so a denial names the missing
 * permission. It refuses to complete a lifecycle action: a check never changes anything.
 */
final class RecordingActions implements LifecycleActions {

  static final String DESCRIBE_INSTANCES = "autoscaling:DescribeAutoScalingInstances";
  static final String DESCRIBE_HOOKS = "autoscaling:DescribeLifecycleHooks";
  static final String HEARTBEAT = "autoscaling:RecordLifecycleActionHeartbeat";

  private final LifecycleActions delegate;
  private final Set<String> answered = new LinkedHashSet<>();
  private String inFlight;
  private HooksSeen hooksSeen;

  /** What DescribeLifecycleHooks answered for a group. */
  record HooksSeen(String group, List<TerminationHook> hooks) {}

  RecordingActions(LifecycleActions delegate) {
    this.delegate = delegate;
  }

  @Override
  public ActionOutcome heartbeat(LifecycleHookRef ref) {
    return call(HEARTBEAT, () -> delegate.heartbeat(ref));
  }

  @Override
  public ActionOutcome complete(LifecycleHookRef ref, LifecycleResult result) {
    throw new UnsupportedOperationException("drainguard check never completes " + ref);
  }

  @Override
  public void terminateInstance(String instanceId) {
    throw new UnsupportedOperationException("drainguard check never terminates " + instanceId);
  }

  @Override
  public void setProtection(String groupName, String instanceId, boolean protectedFromScaleIn) {
    throw new UnsupportedOperationException(
        "drainguard check never changes scale-in protection of " + instanceId);
  }

  @Override
  public List<TerminationHook> terminationHooks(String groupName) {
    List<TerminationHook> hooks = call(DESCRIBE_HOOKS, () -> delegate.terminationHooks(groupName));
    hooksSeen = new HooksSeen(groupName, List.copyOf(hooks));
    return hooks;
  }

  @Override
  public Optional<GroupMembership> describeInstance(String instanceId) {
    return call(DESCRIBE_INSTANCES, () -> delegate.describeInstance(instanceId));
  }

  /** The IAM actions whose calls were answered, in call order. */
  List<String> answered() {
    return new ArrayList<>(answered);
  }

  /** The IAM action of the call that threw, if the last call threw. */
  Optional<String> failedAction() {
    return Optional.ofNullable(inFlight);
  }

  /** What DescribeLifecycleHooks answered; empty when it was not called. */
  Optional<HooksSeen> hooksSeen() {
    return Optional.ofNullable(hooksSeen);
  }

  private <T> T call(String action, Supplier<T> op) {
    inFlight = action;
    T result = op.get();
    inFlight = null;
    answered.add(action);
    return result;
  }
}
