package dev.drainguard.check;

import dev.drainguard.drain.DrainController;
import dev.drainguard.drain.HookDiscovery;
import dev.drainguard.imds.TargetLifecycleState;
import dev.drainguard.lifecycle.ActionOutcome;
import dev.drainguard.lifecycle.LifecycleActions;
import dev.drainguard.lifecycle.LifecycleApiException;
import dev.drainguard.lifecycle.TerminationHook;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The Auto Scaling side: the API answers and lets this role call it ({@code api}), the termination
 * hook is found ({@code hook}, by {@link HookDiscovery} as {@code drainguard run} finds it), and,
 * when asked, one heartbeat proves the heartbeat permission ({@code heartbeat}).
 */
final class LifecycleChecks {

  /** Error codes of a request whose signature or credentials AWS refused. */
  private static final Set<String> CREDENTIAL_CODES =
      Set.of(
          "InvalidClientTokenId",
          "SignatureDoesNotMatch",
          "ExpiredToken",
          "IncompleteSignature",
          "UnrecognizedClientException",
          "AuthFailure");

  private static final String ADD_HOOK =
      "add one: aws autoscaling put-lifecycle-hook --auto-scaling-group-name ";

  private static final String ADD_HOOK_OPTIONS =
      " --lifecycle-hook-name drainguard --lifecycle-transition"
          + " autoscaling:EC2_INSTANCE_TERMINATING --heartbeat-timeout 600 --default-result"
          + " ABANDON";

  static final String PERMISSIONS =
      "drainguard needs autoscaling:DescribeAutoScalingInstances, DescribeLifecycleHooks,"
          + " RecordLifecycleActionHeartbeat and CompleteLifecycleAction";

  private final CheckSettings settings;
  private final Checks.Instance instance;
  private final TargetLifecycleState state;
  private final Function<String, ? extends LifecycleActions> factory;

  /** The effective Auto Scaling endpoint and its source, as every line names it. */
  private String where = "(not resolved)";

  LifecycleChecks(
      CheckSettings settings,
      Checks.Instance instance,
      TargetLifecycleState state,
      Function<String, ? extends LifecycleActions> factory) {
    this.settings = settings;
    this.instance = instance;
    this.state = state;
    this.factory = factory;
  }

  void run(List<Check> out) {
    RecordingActions api;
    try {
      where = settings.autoScalingEndpoint().apply(instance.region()).toString();
      api = new RecordingActions(factory.apply(instance.region()));
    } catch (RuntimeException e) {
      out.add(
          Check.fail(
              Checks.API,
              "Auto Scaling client for " + where + ": " + e.getMessage(),
              "set --region, or --autoscaling-endpoint (DRAINGUARD_AUTOSCALING_ENDPOINT, or"
                  + " AWS_ENDPOINT_URL_AUTO_SCALING)"));
      Checks.skipAll(out, "the Auto Scaling API is not usable", Checks.HOOK, Checks.HEARTBEAT);
      return;
    }
    HookDiscovery.Found found;
    try {
      found =
          HookDiscovery.discover(
              instance.id(),
              settings.groupName(),
              settings.groupFromTags(),
              settings.hookName(),
              instance.imds(),
              api);
    } catch (RuntimeException e) {
      if (api.failedAction().isPresent()) {
        out.add(refused(Checks.API, api.failedAction().get(), e));
        Checks.skipAll(out, "the Auto Scaling API did not answer", Checks.HOOK, Checks.HEARTBEAT);
        return;
      }
      out.add(answered(api));
      out.add(
          api.hooksSeen().filter(seen -> seen.hooks().isEmpty()).isPresent()
              ? noHook(api.hooksSeen().get().group())
              : Check.fail(Checks.HOOK, e.getMessage(), hookFix(api, e)));
      Checks.skipAll(out, "no termination hook to send it for", Checks.HEARTBEAT);
      return;
    }
    out.add(answered(api));
    if (found.missing()) {
      // the agent runs without one (and looks again), but a scale-in would not be held
      out.add(noHook(found.ref().groupName()));
      Checks.skipAll(out, "no termination hook to send it for", Checks.HEARTBEAT);
      return;
    }
    out.add(hook(found));
    out.add(heartbeat(api, found));
  }

  private Check answered(RecordingActions api) {
    if (api.answered().isEmpty()) {
      return Check.skip(Checks.API, "hook discovery stopped before any Auto Scaling call");
    }
    return Check.pass(
        Checks.API, "Auto Scaling at " + where + " answered " + String.join(", ", api.answered()));
  }

  /**
   * The group has no termination hook: a state of the group, not an error of the check. Scale-in
   * terminates this instance without waiting, whatever its queues hold.
   */
  private Check noHook(String group) {
    return Check.fail(
        Checks.HOOK,
        "no termination hook on group "
            + group
            + ": scale-in will not be held (DescribeLifecycleHooks at "
            + where
            + " lists no autoscaling:EC2_INSTANCE_TERMINATING hook)",
        ADD_HOOK + group + ADD_HOOK_OPTIONS);
  }

  private Check hook(HookDiscovery.Found found) {
    TerminationHook h = found.hook();
    String detail =
        String.format(
            "hook=%s asg=%s (asg from %s): HeartbeatTimeout %s, GlobalTimeout %s, DefaultResult"
                + " %s; heartbeat every %s",
            h.name(),
            found.ref().groupName(),
            found.groupSource(),
            Checks.format(h.heartbeatTimeout()),
            Checks.format(h.globalTimeout()),
            h.defaultResult(),
            Checks.format(
                DrainController.heartbeatInterval(
                    settings.heartbeatInterval(), h.heartbeatTimeout())));
    if (settings.deadlineMargin().compareTo(h.globalTimeout()) >= 0) {
      // drainguard run refuses to start with this (Agent.start): a FAIL, not a warning
      return Check.fail(
          Checks.HOOK,
          detail
              + "; deadline-margin "
              + Checks.format(settings.deadlineMargin())
              + " is not shorter than GlobalTimeout, so drainguard run refuses to start",
          "lower --deadline-margin below "
              + Checks.format(h.globalTimeout())
              + ", or raise the hook's HeartbeatTimeout (GlobalTimeout = min(48h, 100 x"
              + " HeartbeatTimeout))");
    }
    return Check.pass(Checks.HOOK, detail);
  }

  private Check heartbeat(RecordingActions api, HookDiscovery.Found found) {
    if (!settings.probeHeartbeat()) {
      return Check.skip(
          Checks.HEARTBEAT,
          "not asked for; --probe-heartbeat sends one RecordLifecycleActionHeartbeat to prove"
              + " the role may call it");
    }
    if (state == TargetLifecycleState.TERMINATED) {
      return Check.skip(
          Checks.HEARTBEAT,
          "the instance is being terminated: a heartbeat now would extend a real termination");
    }
    ActionOutcome outcome;
    try {
      outcome = api.heartbeat(found.ref());
    } catch (RuntimeException e) {
      return refused(Checks.HEARTBEAT, RecordingActions.HEARTBEAT, e);
    }
    if (outcome == ActionOutcome.NO_ACTIVE_ACTION) {
      return Check.pass(
          Checks.HEARTBEAT,
          RecordingActions.HEARTBEAT
              + " allowed: Auto Scaling answered 'No active Lifecycle Action' for "
              + found.ref()
              + ", an answer it gives only after the permission check; nothing was extended");
    }
    return Check.warn(
        Checks.HEARTBEAT,
        RecordingActions.HEARTBEAT
            + " allowed, and accepted: a termination action is active for "
            + found.ref()
            + " and now waits another HeartbeatTimeout",
        "probe only while the instance is in service; drainguard run holds or completes the"
            + " action");
  }

  /** A failed call, named by the IAM action it needs. */
  private Check refused(String name, String action, RuntimeException e) {
    String code = e instanceof LifecycleApiException l ? l.errorCode() : null;
    if (code != null && (code.startsWith("AccessDenied") || code.equals("UnauthorizedOperation"))) {
      return Check.fail(
          name,
          "the role may not call " + action + ": " + e.getMessage(),
          "allow " + action + " in the instance role's policy (" + PERMISSIONS + ")");
    }
    if (code != null && CREDENTIAL_CODES.contains(code)) {
      return Check.fail(
          name,
          "credentials refused calling " + action + ": " + e.getMessage(),
          "give the instance an instance profile, or fix the AWS credentials in the environment");
    }
    return Check.fail(
        name,
        action + " failed: " + e.getMessage(),
        "check the route to Auto Scaling at "
            + where
            + " (NAT or VPC endpoint), --region and --autoscaling-endpoint");
  }

  private String hookFix(RecordingActions api, RuntimeException e) {
    if (!(e instanceof HookDiscovery.DiscoveryException)) {
      return null;
    }
    if (api.hooksSeen().isEmpty()) {
      return "set --asg-name (DRAINGUARD_ASG_NAME) if the instance belongs to a group";
    }
    List<TerminationHook> hooks = api.hooksSeen().get().hooks();
    return "set --hook-name (DRAINGUARD_HOOK_NAME) to one of: "
        + hooks.stream().map(TerminationHook::name).collect(Collectors.joining(", "));
  }
}
