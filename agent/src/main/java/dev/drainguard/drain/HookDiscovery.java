package dev.drainguard.drain;

import dev.drainguard.imds.InstanceMetadata;
import dev.drainguard.lifecycle.GroupMembership;
import dev.drainguard.lifecycle.LifecycleActions;
import dev.drainguard.lifecycle.LifecycleHookRef;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.lifecycle.TerminationHook;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds which group and which termination hook this instance's action belongs to: the group from
 * configuration, else the instance tag, else DescribeAutoScalingInstances; the hook from
 * configuration, else the group's only termination hook.
 */
public final class HookDiscovery {

  private static final Logger log = LoggerFactory.getLogger(HookDiscovery.class);

  /**
   * The hook this agent holds, and where it came from. A group without the hook (yet) is {@link
   * #missing()}: its hook is a stand-in with no name, and the agent looks again later.
   */
  public record Found(LifecycleHookRef ref, TerminationHook hook, String groupSource) {
    public boolean missing() {
      return hook.name().isEmpty();
    }
  }

  /**
   * What stands for a hook that is not there: AWS's defaults, used only until the real one is read.
   */
  static TerminationHook standIn() {
    return new TerminationHook(
        "", Duration.ofHours(1), Duration.ofHours(48), LifecycleResult.ABANDON);
  }

  /** Discovery cannot pick a hook: a setup problem the operator must fix. */
  public static final class DiscoveryException extends RuntimeException {
    public DiscoveryException(String message) {
      super(message);
    }
  }

  private HookDiscovery() {}

  public static Found discover(
      String instanceId,
      Optional<String> configuredGroup,
      boolean groupFromTags,
      Optional<String> configuredHook,
      InstanceMetadata imds,
      LifecycleActions api) {
    String group;
    String source;
    if (configuredGroup.isPresent()) {
      group = configuredGroup.get();
      source = "configuration";
    } else {
      Optional<String> tagged =
          groupFromTags ? imds.autoScalingGroupFromTags() : Optional.<String>empty();
      if (tagged.isPresent()) {
        group = tagged.get();
        source = "instance tag aws:autoscaling:groupName";
      } else {
        group =
            api.describeInstance(instanceId)
                .map(GroupMembership::groupName)
                .orElseThrow(
                    () ->
                        new DiscoveryException(
                            "instance "
                                + instanceId
                                + " is in no Auto Scaling group (DescribeAutoScalingInstances);"
                                + " drainguard only protects group members: set --asg-name if"
                                + " this is wrong"));
        source = "DescribeAutoScalingInstances";
      }
    }
    List<TerminationHook> hooks = api.terminationHooks(group);
    TerminationHook hook;
    boolean absent =
        configuredHook
            .map(n -> hooks.stream().noneMatch(h -> h.name().equals(n)))
            .orElse(hooks.isEmpty());
    if (absent) {
      // A hook made by a separate resource may come after the first workers: not an exit, a
      // state the agent reports and leaves once the hook is there.
      log.error(
          "no termination hook on asg={}{}: scale-in will not be held; looking again every 5"
              + " minutes and when termination is noticed (its termination hooks: {})",
          group,
          configuredHook.map(n -> " named " + n).orElse(""),
          names(hooks));
      return new Found(
          new LifecycleHookRef(group, configuredHook.orElse(""), instanceId), standIn(), source);
    }
    if (configuredHook.isPresent()) {
      String name = configuredHook.get();
      hook =
          hooks.stream()
              .filter(h -> h.name().equals(name))
              .findFirst()
              .orElseThrow(
                  () ->
                      new DiscoveryException(
                          "termination hook '"
                              + name
                              + "' not found in asg="
                              + group
                              + " (its termination hooks: "
                              + names(hooks)
                              + "): fix --hook-name"));
    } else if (hooks.size() == 1) {
      hook = hooks.get(0);
    } else if (hooks.isEmpty()) {
      throw new DiscoveryException(
          "asg="
              + group
              + " has no autoscaling:EC2_INSTANCE_TERMINATING lifecycle hook: add one, or"
              + " drainguard cannot hold a termination");
    } else {
      throw new DiscoveryException(
          "asg="
              + group
              + " has "
              + hooks.size()
              + " termination hooks ("
              + names(hooks)
              + "): choose one with --hook-name");
    }
    log.info(
        "hook discovered hook={} asg={} instance={} groupFrom=\"{}\" heartbeatTimeout={}"
            + " globalTimeout={} defaultResult={}",
        hook.name(),
        group,
        instanceId,
        source,
        hook.heartbeatTimeout(),
        hook.globalTimeout(),
        hook.defaultResult());
    return new Found(new LifecycleHookRef(group, hook.name(), instanceId), hook, source);
  }

  private static String names(List<TerminationHook> hooks) {
    return hooks.isEmpty()
        ? "none"
        : hooks.stream().map(TerminationHook::name).collect(Collectors.joining(", "));
  }
}
