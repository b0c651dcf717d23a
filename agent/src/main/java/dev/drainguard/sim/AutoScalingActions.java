package dev.drainguard.sim;

import java.time.Duration;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The Auto Scaling actions the simulator implements: each turns request parameters into XML. */
final class AutoScalingActions {

  private static final String INSTANCE_TYPE = "t3.medium";
  private static final String HEALTHY = "HEALTHY";
  private static final String LAUNCH_TEMPLATE_ID = "lt-0123456789abcdef0";
  private static final String LAUNCH_TEMPLATE_NAME = "drainguard-sim";

  /** Auto Scaling's bounds on a hook's HeartbeatTimeout. */
  static final long MIN_HEARTBEAT_TIMEOUT_S = 30;

  static final long MAX_HEARTBEAT_TIMEOUT_S = 7200;

  private final SimModel model;

  AutoScalingActions(SimModel model) {
    this.model = model;
  }

  /**
   * The content of the action's {@code <ActionResult>} element (empty for actions with no output).
   *
   * @throws ApiError the {@code ErrorResponse} to answer instead
   */
  QueryXml answer(String action, Map<String, String> params) {
    if (action == null) {
      throw new ApiError(400, "MissingAction", "The request must contain the parameter Action");
    }
    return switch (action) {
      case "RecordLifecycleActionHeartbeat" -> heartbeat(params);
      case "CompleteLifecycleAction" -> complete(params);
      case "DescribeLifecycleHooks" -> describeHooks(params);
      case "DescribeAutoScalingInstances" -> describeInstances(params);
      case "TerminateInstanceInAutoScalingGroup" -> terminateInstance(params);
      case "SetInstanceProtection" -> setProtection(params);
      case "PutLifecycleHook" -> putHook(params);
      default ->
          throw new ApiError(
              400, "InvalidAction", "The action " + action + " is not valid for this web service.");
    };
  }

  private QueryXml heartbeat(Map<String, String> p) {
    model.heartbeat(
        p.get("AutoScalingGroupName"),
        p.get("LifecycleHookName"),
        p.get("InstanceId"),
        p.get("LifecycleActionToken"));
    return new QueryXml();
  }

  private QueryXml complete(Map<String, String> p) {
    model.complete(
        p.get("AutoScalingGroupName"),
        p.get("LifecycleHookName"),
        p.get("InstanceId"),
        p.get("LifecycleActionToken"),
        p.get("LifecycleActionResult"));
    return new QueryXml();
  }

  private QueryXml describeHooks(Map<String, String> p) {
    List<SimHook> hooks =
        model.describeHooks(p.get("AutoScalingGroupName"), members(p, "LifecycleHookNames"));
    QueryXml xml = new QueryXml();
    if (hooks.isEmpty()) {
      return xml.empty("LifecycleHooks");
    }
    xml.open("LifecycleHooks");
    for (SimHook h : hooks) {
      xml.open("member")
          .leaf("LifecycleHookName", h.name())
          .leaf("AutoScalingGroupName", h.groupName())
          .leaf("LifecycleTransition", SimHook.TERMINATING_TRANSITION)
          .leaf("HeartbeatTimeout", h.heartbeatTimeout().toSeconds())
          .leaf("GlobalTimeout", h.globalTimeout().toSeconds())
          .leaf("DefaultResult", h.defaultResult())
          .close("member");
    }
    return xml.close("LifecycleHooks");
  }

  private QueryXml describeInstances(Map<String, String> p) {
    List<SimModel.InstanceRow> rows = model.describeInstances(members(p, "InstanceIds"));
    QueryXml xml = new QueryXml();
    if (rows.isEmpty()) {
      return xml.empty("AutoScalingInstances");
    }
    xml.open("AutoScalingInstances");
    for (SimModel.InstanceRow r : rows) {
      xml.open("member")
          .leaf("InstanceId", r.instanceId())
          .leaf("InstanceType", INSTANCE_TYPE)
          .leaf("AutoScalingGroupName", r.groupName())
          .leaf("AvailabilityZone", r.availabilityZone())
          .leaf("LifecycleState", r.lifecycleState())
          .leaf("HealthStatus", HEALTHY)
          .open("LaunchTemplate")
          .leaf("LaunchTemplateId", LAUNCH_TEMPLATE_ID)
          .leaf("LaunchTemplateName", LAUNCH_TEMPLATE_NAME)
          .leaf("Version", "1")
          .close("LaunchTemplate")
          .leaf("ProtectedFromScaleIn", r.protectedFromScaleIn())
          .close("member");
    }
    return xml.close("AutoScalingInstances");
  }

  private QueryXml terminateInstance(Map<String, String> p) {
    SimModel.TerminateActivity a =
        model.terminateInGroup(p.get("InstanceId"), p.get("ShouldDecrementDesiredCapacity"));
    String start =
        DateTimeFormatter.ISO_INSTANT.format(a.startTime().truncatedTo(ChronoUnit.MILLIS));
    String cause =
        "At "
            + start
            + " instance "
            + a.instanceId()
            + " was taken out of service in response to a user request"
            + (a.capacityAfter() < a.capacityBefore()
                ? ", shrinking the capacity from "
                    + a.capacityBefore()
                    + " to "
                    + a.capacityAfter()
                    + "."
                : ".");
    return new QueryXml()
        .open("Activity")
        .leaf("ActivityId", a.activityId())
        .leaf("AutoScalingGroupName", a.groupName())
        .leaf("Description", "Terminating EC2 instance: " + a.instanceId())
        .leaf("Cause", cause)
        .leaf("StartTime", start)
        .leaf("StatusCode", "InProgress")
        .leaf("Progress", 0)
        .close("Activity");
  }

  private QueryXml setProtection(Map<String, String> p) {
    model.setProtection(
        p.get("AutoScalingGroupName"), members(p, "InstanceIds"), p.get("ProtectedFromScaleIn"));
    return new QueryXml();
  }

  /**
   * PutLifecycleHook, for the termination transition only (the simulator models no other): the
   * LifecycleTransition is required to create a hook, optional to change one; HeartbeatTimeout must
   * be 30 to 7200 s, as Auto Scaling requires.
   */
  private QueryXml putHook(Map<String, String> p) {
    String group = p.get("AutoScalingGroupName");
    String name = p.get("LifecycleHookName");
    String transition = p.get("LifecycleTransition");
    if (transition != null && !SimHook.TERMINATING_TRANSITION.equals(transition)) {
      throw ApiError.validation(
          "the simulator models only " + SimHook.TERMINATING_TRANSITION + " hooks: " + transition);
    }
    if (group == null) {
      throw ApiError.missing("autoScalingGroupName");
    }
    if (name == null) {
      throw ApiError.missing("lifecycleHookName");
    }
    if (transition == null && model.describeHooks(group, List.of(name)).isEmpty()) {
      throw ApiError.missing("lifecycleTransition");
    }
    Duration timeout = null;
    String raw = p.get("HeartbeatTimeout");
    if (raw != null) {
      long seconds;
      try {
        seconds = Long.parseLong(raw);
      } catch (NumberFormatException e) {
        throw ApiError.validation("Invalid value for HeartbeatTimeout: " + raw);
      }
      if (seconds < MIN_HEARTBEAT_TIMEOUT_S || seconds > MAX_HEARTBEAT_TIMEOUT_S) {
        throw ApiError.validation(
            "1 validation error detected: Value '"
                + raw
                + "' at 'heartbeatTimeout' failed to satisfy constraint: Member must have value"
                + " between "
                + MIN_HEARTBEAT_TIMEOUT_S
                + " and "
                + MAX_HEARTBEAT_TIMEOUT_S);
      }
      timeout = Duration.ofSeconds(seconds);
    }
    String result = p.get("DefaultResult");
    if (result != null
        && !SimInstance.CONTINUE.equals(result)
        && !SimInstance.ABANDON.equals(result)) {
      throw ApiError.validation("Invalid value for DefaultResult: " + result);
    }
    model.putTerminationHook(group, name, timeout, result);
    return new QueryXml();
  }

  /** The values of a Query list parameter {@code Name.member.1}, {@code Name.member.2}, …. */
  static List<String> members(Map<String, String> params, String name) {
    List<String> values = new ArrayList<>();
    for (int n = 1; params.containsKey(name + ".member." + n); n++) {
      values.add(params.get(name + ".member." + n));
    }
    return values;
  }
}
