package dev.drainguard.sim;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The simulated world: groups, hooks and instances, guarded by one lock (this object's monitor).
 *
 * <p>Every method first advances every instance to the clock's present, so timed transitions
 * (deregistration, heartbeat and global timeouts) are applied lazily and exactly at their due
 * instants, with no background thread.
 */
final class SimModel {

  /** What IMDS tells about the one instance it speaks for. */
  record ImdsView(
      String instanceId,
      String region,
      Optional<String> groupName,
      String targetLifecycleState,
      boolean metadataTagsEnabled) {}

  /** One member of DescribeAutoScalingInstances. */
  record InstanceRow(
      String instanceId, String groupName, String availabilityZone, String lifecycleState) {}

  private final Clock clock;
  private final Map<String, SimGroup> groups = new LinkedHashMap<>();
  private final Map<String, SimInstance> instances = new LinkedHashMap<>();
  private Duration deregistrationDelay = Duration.ZERO;
  private String imdsInstanceId;

  SimModel(Clock clock) {
    this.clock = clock;
  }

  Clock clock() {
    return clock;
  }

  synchronized void addGroup(String groupName) {
    if (groups.putIfAbsent(groupName, new SimGroup(groupName)) != null) {
      throw new IllegalArgumentException("group already exists: asg=" + groupName);
    }
  }

  synchronized void addInstance(
      String groupName, String instanceId, String region, boolean metadataTagsEnabled) {
    SimGroup group = groupName == null ? null : group(groupName);
    if (instances.containsKey(instanceId)) {
      throw new IllegalArgumentException("instance already exists: instance=" + instanceId);
    }
    instances.put(instanceId, new SimInstance(instanceId, group, region, metadataTagsEnabled));
    if (imdsInstanceId == null) {
      imdsInstanceId = instanceId;
    }
  }

  synchronized void setImdsInstance(String instanceId) {
    instance(instanceId);
    imdsInstanceId = instanceId;
  }

  synchronized void addTerminationHook(
      String groupName, String hookName, Duration heartbeatTimeout, String defaultResult) {
    group(groupName)
        .setTerminationHook(SimHook.of(groupName, hookName, heartbeatTimeout, defaultResult));
  }

  synchronized void setDeregistrationDelay(Duration delay) {
    if (delay.isNegative()) {
      throw new IllegalArgumentException("deregistration delay must not be negative: " + delay);
    }
    deregistrationDelay = delay;
  }

  synchronized void terminate(String instanceId) {
    Instant now = advance();
    instance(instanceId).terminate(now, deregistrationDelay);
  }

  synchronized String lifecycleState(String instanceId) {
    advance();
    return instance(instanceId).state().wireName();
  }

  synchronized Optional<ActionEnd> actionEnd(String instanceId) {
    advance();
    return instance(instanceId).actionEnd();
  }

  /** The instance IMDS speaks for; empty before any instance was added. */
  synchronized Optional<ImdsView> imdsView() {
    advance();
    if (imdsInstanceId == null) {
      return Optional.empty();
    }
    SimInstance i = instances.get(imdsInstanceId);
    return Optional.of(
        new ImdsView(
            i.id(),
            i.region(),
            i.group().map(SimGroup::name),
            i.targetLifecycleState(),
            i.metadataTagsEnabled()));
  }

  synchronized void heartbeat(String groupName, String hookName, String instanceId, String token) {
    Instant now = advance();
    activeAction(groupName, hookName, instanceId, token).heartbeat(now);
  }

  synchronized void complete(
      String groupName, String hookName, String instanceId, String token, String result) {
    Instant now = advance();
    SimInstance instance = activeAction(groupName, hookName, instanceId, token);
    if (result == null) {
      throw ApiError.validation(notNull("lifecycleActionResult"));
    }
    if (!SimInstance.CONTINUE.equals(result) && !SimInstance.ABANDON.equals(result)) {
      throw ApiError.validation(
          "Invalid value for LifecycleActionResult: " + result + ". Use CONTINUE or ABANDON.");
    }
    instance.complete(now, result);
  }

  /** DescribeLifecycleHooks: the group's hooks, filtered by name when names are given. */
  synchronized List<SimHook> describeHooks(String groupName, Collection<String> hookNames) {
    advance();
    if (groupName == null) {
      throw ApiError.validation(notNull("autoScalingGroupName"));
    }
    SimGroup group = groups.get(groupName);
    if (group == null) {
      throw ApiError.validation("Group " + groupName + " not found");
    }
    return group
        .terminationHook()
        .filter(h -> hookNames.isEmpty() || hookNames.contains(h.name()))
        .stream()
        .toList();
  }

  /**
   * DescribeAutoScalingInstances: instances in a group, all of them when {@code instanceIds} is
   * empty; unknown ids and terminated instances are left out, as Auto Scaling does.
   */
  synchronized List<InstanceRow> describeInstances(Collection<String> instanceIds) {
    advance();
    List<InstanceRow> rows = new ArrayList<>();
    for (SimInstance i : instances.values()) {
      boolean wanted = instanceIds.isEmpty() || instanceIds.contains(i.id());
      if (wanted && i.group().isPresent() && i.state() != LifecycleState.TERMINATED) {
        rows.add(
            new InstanceRow(
                i.id(), i.group().get().name(), i.region() + "a", i.state().wireName()));
      }
    }
    return rows;
  }

  /**
   * The instance whose action the heartbeat or complete names, or the ValidationError Auto Scaling
   * would answer.
   */
  private SimInstance activeAction(
      String groupName, String hookName, String instanceId, String token) {
    if (groupName == null) {
      throw ApiError.validation(notNull("autoScalingGroupName"));
    }
    if (hookName == null) {
      throw ApiError.validation(notNull("lifecycleHookName"));
    }
    if (instanceId == null && token == null) {
      throw ApiError.validation(
          "Either an InstanceId or a LifecycleActionToken must be specified.");
    }
    SimGroup group = groups.get(groupName);
    if (group == null) {
      throw ApiError.validation("Group " + groupName + " not found");
    }
    if (group.terminationHook().filter(h -> h.name().equals(hookName)).isEmpty()) {
      throw ApiError.validation(
          "No Lifecycle Hook found with name " + hookName + " for group " + groupName);
    }
    if (instanceId == null) {
      return instances.values().stream()
          .filter(i -> i.actionActive() && token.equals(i.actionToken()))
          .filter(i -> i.group().filter(g -> g == group).isPresent())
          .findFirst()
          .orElseThrow(
              () -> ApiError.validation("No active Lifecycle Action found with token " + token));
    }
    SimInstance instance = instances.get(instanceId);
    if (instance == null
        || !instance.actionActive()
        || instance.group().filter(g -> g == group).isEmpty()) {
      throw ApiError.noActiveAction(instanceId);
    }
    if (token != null && !token.equals(instance.actionToken())) {
      throw ApiError.validation("No active Lifecycle Action found with token " + token);
    }
    return instance;
  }

  private static String notNull(String member) {
    return "1 validation error detected: Value null at '"
        + member
        + "' failed to satisfy constraint: Member must not be null";
  }

  private Instant advance() {
    Instant now = clock.instant();
    for (SimInstance i : instances.values()) {
      i.advance(now);
    }
    return now;
  }

  private SimGroup group(String groupName) {
    SimGroup group = groups.get(groupName);
    if (group == null) {
      throw new IllegalArgumentException("unknown group: asg=" + groupName);
    }
    return group;
  }

  private SimInstance instance(String instanceId) {
    SimInstance instance = instances.get(instanceId);
    if (instance == null) {
      throw new IllegalArgumentException("unknown instance: instance=" + instanceId);
    }
    return instance;
  }
}
