package dev.drainguard.check;

import dev.drainguard.imds.ImdsException;
import dev.drainguard.imds.InstanceMetadata;
import dev.drainguard.imds.TargetLifecycleState;
import dev.drainguard.lifecycle.ActionOutcome;
import dev.drainguard.lifecycle.GroupMembership;
import dev.drainguard.lifecycle.LifecycleActions;
import dev.drainguard.lifecycle.LifecycleApiException;
import dev.drainguard.lifecycle.LifecycleHookRef;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.lifecycle.TerminationHook;
import dev.drainguard.net.Endpoint;
import dev.drainguard.queue.DrainedWhen;
import dev.drainguard.queue.Probe;
import dev.drainguard.queue.QueueRootSpec;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Hand-written fakes of the ports the checks use, and settings to run them with. */
final class Fakes {

  static final Endpoint IMDS =
      new Endpoint(URI.create("http://127.0.0.1:1338"), "flag --imds-endpoint");
  static final Endpoint AUTOSCALING =
      new Endpoint(URI.create("http://127.0.0.1:1339"), "env AWS_ENDPOINT_URL_AUTO_SCALING");

  private Fakes() {}

  /** Settings a test changes field by field, then builds. */
  static final class Settings {
    Optional<String> region = Optional.empty();
    Optional<String> groupName = Optional.empty();
    boolean groupFromTags = true;
    Optional<String> hookName = Optional.empty();
    Duration heartbeatInterval = Duration.ofMinutes(5);
    Duration deadlineMargin = Duration.ofMinutes(5);
    List<Path> roots;
    List<Probe> probes = List.of();
    DrainedWhen drainedWhen = DrainedWhen.ALL;
    Duration quietPeriod = Duration.ofSeconds(10);
    Duration probeInterval = Duration.ofSeconds(5);
    boolean probeHeartbeat;
    Path maxUserWatches;

    Settings(List<Path> roots, Path maxUserWatches) {
      this.roots = roots;
      this.maxUserWatches = maxUserWatches;
    }

    CheckSettings build() {
      return new CheckSettings(
          "settings valid (no config file)",
          IMDS,
          region -> AUTOSCALING,
          region,
          groupName,
          groupFromTags,
          hookName,
          heartbeatInterval,
          deadlineMargin,
          roots.stream().map(r -> new QueueRootSpec(r, List.of(), 0)).toList(),
          probes,
          drainedWhen,
          quietPeriod,
          probeInterval,
          probeHeartbeat,
          maxUserWatches,
          "drainguard",
          Optional.empty(),
          Optional.empty());
    }
  }

  static TerminationHook hook(String name) {
    return new TerminationHook(
        name, Duration.ofHours(1), Duration.ofHours(48), LifecycleResult.ABANDON);
  }

  static LifecycleApiException denied(String action) {
    return new LifecycleApiException(
        "call at "
            + AUTOSCALING
            + ": HTTP 403 AccessDenied: User: arn:aws:sts::1:assumed-role/w/i-1 is not"
            + " authorized to perform: "
            + action,
        "AccessDenied",
        null);
  }

  static final class Imds implements InstanceMetadata {
    TokenProbe probe = new TokenProbe(TokenProbe.Outcome.ISSUED, "PUT answered 200");
    TargetLifecycleState state = TargetLifecycleState.IN_SERVICE;
    Optional<String> tagGroup = Optional.of("workers");
    RuntimeException instanceIdFails;

    @Override
    public TokenProbe probeToken() {
      return probe;
    }

    @Override
    public String instanceId() {
      if (instanceIdFails != null) {
        throw instanceIdFails;
      }
      return "i-1";
    }

    @Override
    public String region() {
      return "eu-west-1";
    }

    @Override
    public TargetLifecycleState targetLifecycleState() {
      return state;
    }

    @Override
    public Optional<String> autoScalingGroupFromTags() {
      return tagGroup;
    }

    @Override
    public Optional<dev.drainguard.imds.SpotNotice> spotInterruption() {
      return Optional.empty();
    }

    @Override
    public Optional<dev.drainguard.imds.SpotNotice> rebalanceRecommendation() {
      return Optional.empty();
    }

    static ImdsException down() {
      return new ImdsException("IMDS GET /latest/meta-data/instance-id failed", null);
    }
  }

  /** Answers from its fields; a set exception is thrown by that call. */
  static final class Api implements LifecycleActions {
    final List<String> calls = new ArrayList<>();
    List<TerminationHook> hooks = List.of(hook("hold-queues"));
    Optional<GroupMembership> membership = Optional.of(new GroupMembership("workers", "InService"));
    ActionOutcome heartbeat = ActionOutcome.NO_ACTIVE_ACTION;
    RuntimeException hooksFail;
    RuntimeException describeFails;
    RuntimeException heartbeatFails;

    @Override
    public void terminateInstance(String instanceId) {
      calls.add("terminate:" + instanceId);
    }

    @Override
    public void setProtection(String groupName, String instanceId, boolean protectedFromScaleIn) {
      calls.add("protect:" + protectedFromScaleIn);
    }

    @Override
    public ActionOutcome heartbeat(LifecycleHookRef ref) {
      calls.add("heartbeat:" + ref);
      if (heartbeatFails != null) {
        throw heartbeatFails;
      }
      return heartbeat;
    }

    @Override
    public ActionOutcome complete(LifecycleHookRef ref, LifecycleResult result) {
      calls.add("complete");
      throw new AssertionError("a check must never complete a lifecycle action");
    }

    @Override
    public List<TerminationHook> terminationHooks(String groupName) {
      calls.add("hooks:" + groupName);
      if (hooksFail != null) {
        throw hooksFail;
      }
      return hooks;
    }

    @Override
    public Optional<GroupMembership> describeInstance(String instanceId) {
      calls.add("describe:" + instanceId);
      if (describeFails != null) {
        throw describeFails;
      }
      return membership;
    }
  }
}
