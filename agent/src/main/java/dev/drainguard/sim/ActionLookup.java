package dev.drainguard.sim;

import java.time.Instant;
import java.util.Map;

/**
 * Finds the instance whose active action a heartbeat or complete names, or throws the
 * ValidationError Auto Scaling would answer. Called by {@link SimModel} under its lock.
 */
final class ActionLookup {

  private ActionLookup() {}

  static SimInstance activeAction(
      Map<String, SimGroup> groups,
      Map<String, SimInstance> instances,
      ActionBlip blip,
      Instant now,
      String groupName,
      String hookName,
      String instanceId,
      String token) {
    if (groupName == null) {
      throw ApiError.missing("autoScalingGroupName");
    }
    if (hookName == null) {
      throw ApiError.missing("lifecycleHookName");
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
          .filter(i -> !inBlip(i, blip, now))
          .findFirst()
          .orElseThrow(
              () -> ApiError.validation("No active Lifecycle Action found with token " + token));
    }
    SimInstance instance = instances.get(instanceId);
    if (instance == null
        || !instance.actionActive()
        || instance.group().filter(g -> g == group).isEmpty()
        || inBlip(instance, blip, now)) {
      throw ApiError.noActiveAction(instanceId);
    }
    if (token != null && !token.equals(instance.actionToken())) {
      throw ApiError.validation("No active Lifecycle Action found with token " + token);
    }
    return instance;
  }

  private static boolean inBlip(SimInstance instance, ActionBlip blip, Instant now) {
    return instance.actionActiveSince().filter(since -> blip.covers(since, now)).isPresent();
  }
}
