package dev.drainguard.lifecycle;

import dev.drainguard.aws.CredentialsProvider;
import dev.drainguard.aws.QueryXml;
import dev.drainguard.aws.SigV4;
import dev.drainguard.net.BoundedHttp;
import dev.drainguard.net.Endpoint;
import dev.drainguard.net.HttpsProxy;
import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.net.RetryPolicy;
import dev.drainguard.net.Sleeper;
import java.net.URI;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link LifecycleActions} over the Auto Scaling Query API, spoken directly: each call is one form
 * POST signed with Signature Version 4 ({@link SigV4}) and sent by {@link BoundedHttp}, bounded as
 * a whole, and its XML answer read by {@link QueryXml}. Every error is classified in one place
 * ({@link QueryCalls}, {@link ApiFailures}): throttling ({@code Throttling}, {@code
 * RequestLimitExceeded}, HTTP 429), 5xx, transport failures and malformed answers are retried with
 * {@link RetryPolicy} and, if they last, thrown as a transient {@link LifecycleApiException}; "No
 * active Lifecycle Action found" is {@link ActionOutcome#NO_ACTIVE_ACTION}; anything else is final.
 *
 * <p>Not the AWS SDK's client: the agent makes a few calls at start and a few while an instance
 * terminates, and that client kept some thousand classes and the SDK's region tables in memory for
 * the whole life of the instance (issue 15). The calls and their answers are those of the API
 * reference (version 2011-01-01); a test runs them against moto, and the simulator's wire format is
 * checked against the SDK's own client.
 *
 * <p>The client calls exactly the {@link Endpoint} it is given (resolved once by the configuration,
 * see {@code config.AwsEndpoints}), so what {@code check} prints is what is called.
 */
public final class QueryLifecycleActions implements LifecycleActions, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(QueryLifecycleActions.class);

  static final String TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING";
  static final String NO_ACTIVE_ACTION_MESSAGE = ApiFailures.NO_ACTIVE_ACTION_MESSAGE;
  static final String API_VERSION = "2011-01-01";

  /**
   * The IAM actions of every Auto Scaling call this class makes, and nothing else: the instance
   * role's policy (userdata/iam-policy.json, userdata/cloudformation.yaml) must allow exactly
   * these. IamActionsTest keeps the list equal to the calls in this file.
   */
  public static final List<String> IAM_ACTIONS =
      List.of(
          "autoscaling:RecordLifecycleActionHeartbeat",
          "autoscaling:CompleteLifecycleAction",
          "autoscaling:DescribeLifecycleHooks",
          "autoscaling:DescribeAutoScalingInstances",
          "autoscaling:TerminateInstanceInAutoScalingGroup",
          "autoscaling:SetInstanceProtection");

  private final Endpoint endpoint;
  private final QueryCalls calls;

  /**
   * @param endpoint the Auto Scaling endpoint, or {@code null} for the region's default (with
   *     neither FIPS nor dual-stack; refused by the guard in loopback-only mode)
   */
  public QueryLifecycleActions(
      String region,
      URI endpoint,
      CredentialsProvider credentials,
      LoopbackGuard guard,
      RetryPolicy retry,
      Sleeper sleeper) {
    this(
        region,
        endpoint == null
            ? AutoScalingEndpoints.regional(region, false, false, "")
            : new Endpoint(endpoint, "the caller"),
        credentials,
        guard,
        retry,
        sleeper);
  }

  /**
   * @param endpoint the effective Auto Scaling endpoint and where it came from (e.g. {@code
   *     AgentConfig.endpoints().autoScaling(region)}); the guard judges it before anything is built
   */
  public QueryLifecycleActions(
      String region,
      Endpoint endpoint,
      CredentialsProvider credentials,
      LoopbackGuard guard,
      RetryPolicy retry,
      Sleeper sleeper) {
    this(
        region,
        endpoint,
        credentials,
        guard,
        retry,
        sleeper,
        Clock.systemUTC(),
        null,
        HttpsProxy.forTarget(endpoint.uri(), System.getenv(), System::getProperty));
  }

  /**
   * As above, with the clock that dates signatures, the TLS sockets (null: the JVM's) and the proxy
   * for an https endpoint.
   */
  QueryLifecycleActions(
      String region,
      Endpoint endpoint,
      CredentialsProvider credentials,
      LoopbackGuard guard,
      RetryPolicy retry,
      Sleeper sleeper,
      Clock clock,
      javax.net.ssl.SSLSocketFactory tls,
      Optional<HttpsProxy> proxy) {
    guard.check("Auto Scaling", endpoint);
    this.endpoint = endpoint;
    this.calls =
        new QueryCalls(region, endpoint, credentials, guard, retry, sleeper, clock, tls, proxy);
    log.info("auto scaling endpoint={} source=\"{}\"", endpoint.uri(), endpoint.source());
    proxy.ifPresent(
        p -> log.info("auto scaling through proxy={} source=\"{}\"", p.address(), p.source()));
  }

  /** The endpoint this adapter calls, and where it came from. */
  public Endpoint endpoint() {
    return endpoint;
  }

  @Override
  public ActionOutcome heartbeat(LifecycleHookRef ref) {
    return calls.call(
        "heartbeat for " + ref,
        "RecordLifecycleActionHeartbeat",
        Map.of(
            "AutoScalingGroupName", ref.groupName(),
            "LifecycleHookName", ref.hookName(),
            "InstanceId", ref.instanceId()),
        r -> ActionOutcome.ACCEPTED,
        ActionOutcome.NO_ACTIVE_ACTION);
  }

  @Override
  public ActionOutcome complete(LifecycleHookRef ref, LifecycleResult result) {
    return calls.call(
        "complete(" + result + ") for " + ref,
        "CompleteLifecycleAction",
        Map.of(
            "AutoScalingGroupName", ref.groupName(),
            "LifecycleHookName", ref.hookName(),
            "InstanceId", ref.instanceId(),
            "LifecycleActionResult", result.name()),
        r -> ActionOutcome.ACCEPTED,
        ActionOutcome.NO_ACTIVE_ACTION);
  }

  @Override
  public List<TerminationHook> terminationHooks(String groupName) {
    return hooks(
        "describe lifecycle hooks of asg=" + groupName,
        Map.of("AutoScalingGroupName", groupName),
        h -> true);
  }

  @Override
  public Optional<TerminationHook> terminationHook(String groupName, String hookName) {
    return hooks(
            "describe lifecycle hook=" + hookName + " of asg=" + groupName,
            Map.of("AutoScalingGroupName", groupName, "LifecycleHookNames.member.1", hookName),
            h -> hookName.equals(h.name()))
        .stream()
        .findFirst();
  }

  private List<TerminationHook> hooks(
      String operation, Map<String, String> params, Predicate<TerminationHook> wanted) {
    return calls.call(
        operation,
        "DescribeLifecycleHooks",
        params,
        r ->
            QueryAnswers.members(r, "LifecycleHooks").stream()
                .filter(h -> TERMINATING.equals(h.text("LifecycleTransition").orElse("")))
                .map(QueryAnswers::hook)
                .filter(wanted)
                .toList(),
        null);
  }

  @Override
  public Optional<GroupMembership> describeInstance(String instanceId) {
    return calls.call(
        "describe auto scaling instance=" + instanceId,
        "DescribeAutoScalingInstances",
        Map.of("InstanceIds.member.1", instanceId),
        r ->
            QueryAnswers.members(r, "AutoScalingInstances").stream()
                .filter(i -> instanceId.equals(i.text("InstanceId").orElse(null)))
                .findFirst()
                .map(QueryAnswers::membership),
        null);
  }

  @Override
  public void terminateInstance(String instanceId) {
    calls.call(
        "terminate instance=" + instanceId + " in its group (desired capacity kept)",
        "TerminateInstanceInAutoScalingGroup",
        Map.of("InstanceId", instanceId, "ShouldDecrementDesiredCapacity", "false"),
        r -> r,
        null);
  }

  @Override
  public void setProtection(String groupName, String instanceId, boolean protectedFromScaleIn) {
    calls.call(
        "set scale-in protection="
            + protectedFromScaleIn
            + " for asg="
            + groupName
            + " instance="
            + instanceId,
        "SetInstanceProtection",
        Map.of(
            "AutoScalingGroupName", groupName,
            "InstanceIds.member.1", instanceId,
            "ProtectedFromScaleIn", Boolean.toString(protectedFromScaleIn)),
        r -> r,
        null);
  }

  /** Nothing to release: every call has its own connection, closed when it ends. */
  @Override
  public void close() {}
}
