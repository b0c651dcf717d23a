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
import java.util.Set;
import java.util.UUID;

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
      boolean metadataTagsEnabled,
      Optional<SpotAction> spotAction,
      Optional<Instant> rebalanceNoticeTime,
      String purchasingOption) {}

  /** One member of DescribeAutoScalingInstances. */
  record InstanceRow(
      String instanceId,
      String groupName,
      String availabilityZone,
      String lifecycleState,
      boolean protectedFromScaleIn) {}

  /** The scaling activity a TerminateInstanceInAutoScalingGroup request started. */
  record TerminateActivity(
      String activityId,
      String groupName,
      String instanceId,
      Instant startTime,
      int capacityBefore,
      int capacityAfter) {}

  /** The longest deregistration delay an ELB target group allows. */
  static final Duration MAX_DEREGISTRATION_DELAY = Duration.ofSeconds(3600);

  /** The spot interruption actions IMDS can announce. */
  private static final Set<String> SPOT_ACTIONS = Set.of("terminate", "stop", "hibernate");

  private final Clock clock;
  private final Map<String, SimGroup> groups = new LinkedHashMap<>();
  private final Map<String, SimInstance> instances = new LinkedHashMap<>();
  private Duration deregistrationDelay = Duration.ZERO;
  private ActionBlip blip = ActionBlip.NONE;
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
    if (group != null) {
      group.incrementDesiredCapacity();
    }
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

  /**
   * PutLifecycleHook for the termination transition, on a group that may be running: creates the
   * hook, or changes the one of the same name. A null timeout or result keeps the hook's (3600 s
   * and ABANDON for a new hook, as Auto Scaling defaults them).
   *
   * @throws ApiError the ValidationError Auto Scaling would answer (unknown group, second hook)
   */
  synchronized SimHook putTerminationHook(
      String groupName, String hookName, Duration heartbeatTimeout, String defaultResult) {
    advance();
    if (groupName == null) {
      throw ApiError.missing("autoScalingGroupName");
    }
    if (hookName == null) {
      throw ApiError.missing("lifecycleHookName");
    }
    SimGroup group = groups.get(groupName);
    if (group == null) {
      throw ApiError.validation("Group " + groupName + " not found");
    }
    Optional<SimHook> old = group.terminationHook().filter(h -> h.name().equals(hookName));
    SimHook hook =
        SimHook.of(
            groupName,
            hookName,
            heartbeatTimeout != null
                ? heartbeatTimeout
                : old.map(SimHook::heartbeatTimeout).orElse(SimHook.DEFAULT_HEARTBEAT_TIMEOUT),
            defaultResult != null
                ? defaultResult
                : old.map(SimHook::defaultResult).orElse(SimInstance.ABANDON));
    group.putTerminationHook(hook);
    return hook;
  }

  /**
   * For {@code length} starting {@code after} the moment each termination action becomes active,
   * heartbeat and complete answer "No active Lifecycle Action" although the action is active (and
   * its timeouts run): the error AWS gives briefly around the transition. Zero length: no blip.
   */
  synchronized void setActionBlip(Duration after, Duration length) {
    blip = new ActionBlip(after, length);
  }

  synchronized void setRetainOnTerminateHookAbandon(String groupName, boolean retain) {
    group(groupName).setRetainOnTerminateHookAbandon(retain);
  }

  synchronized int desiredCapacity(String groupName) {
    advance();
    return group(groupName).desiredCapacity();
  }

  synchronized boolean isProtected(String instanceId) {
    advance();
    return instance(instanceId).protectedFromScaleIn();
  }

  synchronized Optional<Instant> terminatedAt(String instanceId) {
    advance();
    return instance(instanceId).terminatedAt();
  }

  synchronized Optional<Termination> termination(String instanceId) {
    advance();
    return instance(instanceId).termination();
  }

  synchronized void spotInterruption(String instanceId, String action, Instant time) {
    if (!SPOT_ACTIONS.contains(action)) {
      throw new IllegalArgumentException(
          "spot action must be one of " + SPOT_ACTIONS + ": " + action + " instance=" + instanceId);
    }
    instance(instanceId).setSpotAction(new SpotAction(action, time));
  }

  synchronized void rebalanceRecommendation(String instanceId, Instant noticeTime) {
    instance(instanceId).setRebalanceNoticeTime(noticeTime);
  }

  synchronized void setPurchasingOption(String instanceId, String option) {
    instance(instanceId).setPurchasingOption(option);
  }

  /**
   * Auto Scaling choosing an instance to scale in: the first InService instance of the group, in
   * the order added, that is not protected from scale-in.
   */
  synchronized Optional<String> scaleIn(String groupName) {
    Instant now = advance();
    SimGroup group = group(groupName);
    Optional<SimInstance> chosen =
        instances.values().stream()
            .filter(i -> i.group().filter(g -> g == group).isPresent())
            .filter(i -> i.state() == LifecycleState.IN_SERVICE && !i.protectedFromScaleIn())
            .findFirst();
    chosen.ifPresent(
        i -> {
          i.terminate(now, deregistrationDelay);
          group.decrementDesiredCapacity();
        });
    return chosen.map(SimInstance::id);
  }

  /** TerminateInstanceInAutoScalingGroup. */
  synchronized TerminateActivity terminateInGroup(String instanceId, String shouldDecrement) {
    Instant now = advance();
    if (instanceId == null) {
      throw ApiError.missing("instanceId");
    }
    boolean decrement = ApiError.bool("shouldDecrementDesiredCapacity", shouldDecrement);
    SimInstance instance = instances.get(instanceId);
    if (instance == null
        || instance.group().isEmpty()
        || instance.state() == LifecycleState.TERMINATED) {
      throw ApiError.validation(
          "Instance Id not found - No managed instance found for instance ID: " + instanceId);
    }
    SimGroup group = instance.group().get();
    int before = group.desiredCapacity();
    instance.terminateInGroup(now, deregistrationDelay, decrement);
    if (decrement) {
      group.decrementDesiredCapacity();
    }
    return new TerminateActivity(
        UUID.randomUUID().toString(),
        group.name(),
        instanceId,
        now,
        before,
        group.desiredCapacity());
  }

  /** SetInstanceProtection: all or nothing, every instance checked before any is changed. */
  synchronized void setProtection(
      String groupName, Collection<String> instanceIds, String protectedFromScaleIn) {
    advance();
    if (instanceIds.isEmpty()) {
      throw ApiError.missing("instanceIds");
    }
    if (groupName == null) {
      throw ApiError.missing("autoScalingGroupName");
    }
    boolean value = ApiError.bool("protectedFromScaleIn", protectedFromScaleIn);
    SimGroup group = groups.get(groupName);
    if (group == null) {
      throw ApiError.validation("Group " + groupName + " not found");
    }
    List<SimInstance> targets = new ArrayList<>();
    for (String id : instanceIds) {
      SimInstance i = instances.get(id);
      if (i == null
          || i.group().filter(g -> g == group).isEmpty()
          || i.state() == LifecycleState.TERMINATED) {
        throw ApiError.validation(
            "The instance " + id + " is not part of Auto Scaling group " + groupName + ".");
      }
      targets.add(i);
    }
    targets.forEach(i -> i.setProtectedFromScaleIn(value));
  }

  synchronized void setDeregistrationDelay(Duration delay) {
    if (delay.isNegative() || delay.compareTo(MAX_DEREGISTRATION_DELAY) > 0) {
      throw new IllegalArgumentException(
          "deregistration delay must be from 0 to "
              + MAX_DEREGISTRATION_DELAY.toSeconds()
              + " s (an ELB target group's range): "
              + delay);
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
            i.metadataTagsEnabled(),
            i.spotAction(),
            i.rebalanceNoticeTime(),
            i.purchasingOption()));
  }

  synchronized void heartbeat(String groupName, String hookName, String instanceId, String token) {
    Instant now = advance();
    activeAction(now, groupName, hookName, instanceId, token).heartbeat(now);
  }

  synchronized void complete(
      String groupName, String hookName, String instanceId, String token, String result) {
    Instant now = advance();
    SimInstance instance = activeAction(now, groupName, hookName, instanceId, token);
    if (result == null) {
      throw ApiError.missing("lifecycleActionResult");
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
      throw ApiError.missing("autoScalingGroupName");
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
                i.id(),
                i.group().get().name(),
                i.region() + "a",
                i.state().wireName(),
                i.protectedFromScaleIn()));
      }
    }
    return rows;
  }

  private SimInstance activeAction(
      Instant now, String groupName, String hookName, String instanceId, String token) {
    return ActionLookup.activeAction(
        groups, instances, blip, now, groupName, hookName, instanceId, token);
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
