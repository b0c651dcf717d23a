package dev.drainguard.lifecycle;

import dev.drainguard.lifecycle.ApiFailures.Failure;
import dev.drainguard.net.Endpoint;
import dev.drainguard.net.EndpointRefusedException;
import dev.drainguard.net.GuardedHttpClient;
import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.net.RetryPolicy;
import dev.drainguard.net.Sleeper;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.autoscaling.AutoScalingClientBuilder;
import software.amazon.awssdk.services.autoscaling.model.AutoScalingInstanceDetails;
import software.amazon.awssdk.services.autoscaling.model.LifecycleHook;

/**
 * {@link LifecycleActions} over the SDK's {@link AutoScalingClient}. Every error is classified here
 * ({@link ApiFailures}) and nowhere else: throttling ({@code Throttling}, {@code
 * RequestLimitExceeded}, HTTP 429), 5xx and transport failures are retried with {@link RetryPolicy}
 * (the SDK's own retries are off so one policy governs) and, if they last, thrown as a transient
 * {@link LifecycleApiException}; "No active Lifecycle Action found" is {@link
 * ActionOutcome#NO_ACTIVE_ACTION}; anything else is final.
 *
 * <p>The client calls exactly the {@link Endpoint} it is given (resolved once by the configuration,
 * see {@code config.AwsEndpoints}): the SDK's own endpoint settings are not read again here, so
 * what {@code check} prints is what is called.
 */
public final class SdkLifecycleActions implements LifecycleActions, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(SdkLifecycleActions.class);

  static final String TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING";
  static final String NO_ACTIVE_ACTION_MESSAGE = ApiFailures.NO_ACTIVE_ACTION_MESSAGE;

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

  /** Opening a connection to the regional endpoint takes milliseconds; 2 s means it is down. */
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);

  /**
   * One attempt, connection to answer. Calls answer in well under a second; the bound keeps a
   * blackholed attempt from holding up the drain loop past a heartbeat's slack.
   */
  static final Duration ATTEMPT_TIMEOUT = Duration.ofSeconds(4);

  private final AutoScalingClient client;
  private final RetryPolicy retry;
  private final Sleeper sleeper;
  private final Endpoint endpoint;
  private final String where;

  /**
   * @param endpoint the Auto Scaling endpoint, or {@code null} for the region's default (with
   *     neither FIPS nor dual-stack; refused by the guard in loopback-only mode)
   */
  public SdkLifecycleActions(
      String region,
      URI endpoint,
      AwsCredentialsProvider credentials,
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
  public SdkLifecycleActions(
      String region,
      Endpoint endpoint,
      AwsCredentialsProvider credentials,
      LoopbackGuard guard,
      RetryPolicy retry,
      Sleeper sleeper) {
    guard.check("Auto Scaling", endpoint);
    AutoScalingClientBuilder b =
        AutoScalingClient.builder()
            .region(Region.of(region))
            .credentialsProvider(credentials)
            .endpointOverride(endpoint.uri())
            // FIPS and dual-stack are already in the endpoint when they apply; set here so the
            // SDK does not read them from the environment and refuse them beside an override.
            .fipsEnabled(false)
            .dualstackEnabled(false)
            .httpClient(
                new GuardedHttpClient(
                    UrlConnectionHttpClient.builder()
                        .connectionTimeout(CONNECT_TIMEOUT)
                        .socketTimeout(ATTEMPT_TIMEOUT)
                        .build(),
                    guard,
                    "Auto Scaling"))
            .overrideConfiguration(
                o ->
                    o.retryStrategy(AwsRetryStrategy.doNotRetry())
                        .apiCallAttemptTimeout(ATTEMPT_TIMEOUT)
                        .apiCallTimeout(ATTEMPT_TIMEOUT)
                        // the timeouts run on the agent's one deadline thread: the SDK would
                        // otherwise keep a pool of its own (two idle threads after one call)
                        .scheduledExecutorService(GuardedHttpClient.deadlines()));
    this.client = b.build();
    this.retry = retry;
    this.sleeper = sleeper;
    this.endpoint = endpoint;
    this.where = endpoint.uri().toString();
    log.info("auto scaling endpoint={} source=\"{}\"", endpoint.uri(), endpoint.source());
  }

  /** The endpoint this adapter calls, and where it came from. */
  public Endpoint endpoint() {
    return endpoint;
  }

  @Override
  public ActionOutcome heartbeat(LifecycleHookRef ref) {
    return call(
        "heartbeat for " + ref,
        () -> {
          client.recordLifecycleActionHeartbeat(
              r ->
                  r.autoScalingGroupName(ref.groupName())
                      .lifecycleHookName(ref.hookName())
                      .instanceId(ref.instanceId()));
          return ActionOutcome.ACCEPTED;
        },
        ActionOutcome.NO_ACTIVE_ACTION);
  }

  @Override
  public ActionOutcome complete(LifecycleHookRef ref, LifecycleResult result) {
    return call(
        "complete(" + result + ") for " + ref,
        () -> {
          client.completeLifecycleAction(
              r ->
                  r.autoScalingGroupName(ref.groupName())
                      .lifecycleHookName(ref.hookName())
                      .instanceId(ref.instanceId())
                      .lifecycleActionResult(result.name()));
          return ActionOutcome.ACCEPTED;
        },
        ActionOutcome.NO_ACTIVE_ACTION);
  }

  @Override
  public List<TerminationHook> terminationHooks(String groupName) {
    return call(
        "describe lifecycle hooks of asg=" + groupName,
        () ->
            client
                .describeLifecycleHooks(r -> r.autoScalingGroupName(groupName))
                .lifecycleHooks()
                .stream()
                .filter(h -> TERMINATING.equals(h.lifecycleTransition()))
                .map(SdkLifecycleActions::toHook)
                .toList(),
        null);
  }

  @Override
  public Optional<TerminationHook> terminationHook(String groupName, String hookName) {
    return call(
        "describe lifecycle hook=" + hookName + " of asg=" + groupName,
        () ->
            client
                .describeLifecycleHooks(
                    r -> r.autoScalingGroupName(groupName).lifecycleHookNames(hookName))
                .lifecycleHooks()
                .stream()
                .filter(h -> hookName.equals(h.lifecycleHookName()))
                .filter(h -> TERMINATING.equals(h.lifecycleTransition()))
                .findFirst()
                .map(SdkLifecycleActions::toHook),
        null);
  }

  @Override
  public Optional<GroupMembership> describeInstance(String instanceId) {
    return call(
        "describe auto scaling instance=" + instanceId,
        () ->
            client
                .describeAutoScalingInstances(r -> r.instanceIds(instanceId))
                .autoScalingInstances()
                .stream()
                .filter(i -> instanceId.equals(i.instanceId()))
                .findFirst()
                .map(SdkLifecycleActions::toMembership),
        null);
  }

  @Override
  public void terminateInstance(String instanceId) {
    call(
        "terminate instance=" + instanceId + " in its group (desired capacity kept)",
        () ->
            client.terminateInstanceInAutoScalingGroup(
                r -> r.instanceId(instanceId).shouldDecrementDesiredCapacity(false)),
        null);
  }

  @Override
  public void setProtection(String groupName, String instanceId, boolean protectedFromScaleIn) {
    call(
        "set scale-in protection="
            + protectedFromScaleIn
            + " for asg="
            + groupName
            + " instance="
            + instanceId,
        () ->
            client.setInstanceProtection(
                r ->
                    r.autoScalingGroupName(groupName)
                        .instanceIds(instanceId)
                        .protectedFromScaleIn(protectedFromScaleIn)),
        null);
  }

  @Override
  public void close() {
    client.close();
  }

  private static TerminationHook toHook(LifecycleHook h) {
    return new TerminationHook(
        h.lifecycleHookName(),
        Duration.ofSeconds(h.heartbeatTimeout()),
        Duration.ofSeconds(h.globalTimeout()),
        LifecycleResult.valueOf(h.defaultResult().toUpperCase(Locale.ROOT)));
  }

  private static GroupMembership toMembership(AutoScalingInstanceDetails d) {
    return new GroupMembership(
        d.autoScalingGroupName(),
        d.lifecycleState(),
        Boolean.TRUE.equals(d.protectedFromScaleIn()));
  }

  /**
   * Runs {@code op} under the retry policy and the one classification of errors.
   *
   * @param onNoActiveAction what "No active Lifecycle Action" means for this call, or {@code null}
   *     when it cannot happen and would be an error
   */
  private <T> T call(String operation, Supplier<T> op, T onNoActiveAction) {
    RuntimeException last = null;
    LifecycleApiException.Kind lastKind = LifecycleApiException.Kind.UNAVAILABLE;
    for (int attempt = 1; attempt <= retry.attempts(); attempt++) {
      try {
        return op.get();
      } catch (AwsServiceException e) {
        Failure f = Failure.of(e);
        if (onNoActiveAction != null && f == Failure.NO_ACTIVE_ACTION) {
          log.debug("no active lifecycle action operation=\"{}\"", operation);
          return onNoActiveAction;
        }
        if (!f.retried()) {
          throw new LifecycleApiException(
              String.format("%s at %s: %s", operation, where, ApiFailures.describe(e)),
              ApiFailures.code(e),
              LifecycleApiException.Kind.REJECTED,
              e);
        }
        last = e;
        lastKind = ApiFailures.kind(f);
        log.debug("{} failed attempt={} error={}", operation, attempt, ApiFailures.describe(e));
      } catch (SdkClientException e) {
        Throwable root = ApiFailures.rootCause(e);
        if (root instanceof EndpointRefusedException refused) {
          throw refused;
        }
        last = e;
        lastKind = LifecycleApiException.Kind.UNAVAILABLE;
        log.debug("{} failed attempt={} error={}", operation, attempt, e.getMessage());
      }
      if (attempt < retry.attempts()) {
        sleeper.sleep(retry.delayAfter(attempt));
      }
    }
    throw new LifecycleApiException(
        String.format(
            "%s at %s failed after %d attempts: %s",
            operation,
            where,
            retry.attempts(),
            last instanceof AwsServiceException ase
                ? ApiFailures.describe(ase)
                : last.getMessage()),
        last instanceof AwsServiceException ase ? ApiFailures.code(ase) : null,
        lastKind,
        last);
  }
}
