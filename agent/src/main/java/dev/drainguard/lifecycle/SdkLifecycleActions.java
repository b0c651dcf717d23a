package dev.drainguard.lifecycle;

import dev.drainguard.net.EndpointRefusedException;
import dev.drainguard.net.GuardedHttpClient;
import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.net.RetryPolicy;
import dev.drainguard.net.Sleeper;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
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
 * and nowhere else: throttling, 5xx and transport failures are retried with {@link RetryPolicy}
 * (the SDK's own retries are off so one policy governs); "No active Lifecycle Action found" is
 * {@link ActionOutcome#NO_ACTIVE_ACTION}; anything else is final.
 */
public final class SdkLifecycleActions implements LifecycleActions, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(SdkLifecycleActions.class);

  static final String TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING";
  static final String NO_ACTIVE_ACTION_MESSAGE = "No active Lifecycle Action found";

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
  private final String where;

  /**
   * @param endpoint the Auto Scaling endpoint, or {@code null} for the region's (refused by the
   *     guard in loopback-only mode)
   */
  public SdkLifecycleActions(
      String region,
      URI endpoint,
      AwsCredentialsProvider credentials,
      LoopbackGuard guard,
      RetryPolicy retry,
      Sleeper sleeper) {
    if (guard.enabled()) {
      guard.check("Auto Scaling", endpoint);
    }
    AutoScalingClientBuilder b =
        AutoScalingClient.builder()
            .region(Region.of(region))
            .credentialsProvider(credentials)
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
                        .apiCallTimeout(ATTEMPT_TIMEOUT));
    if (endpoint != null) {
      b.endpointOverride(endpoint);
    }
    this.client = b.build();
    this.retry = retry;
    this.sleeper = sleeper;
    this.where = endpoint == null ? "region " + region : endpoint.toString();
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
    for (int attempt = 1; attempt <= retry.attempts(); attempt++) {
      try {
        return op.get();
      } catch (AwsServiceException e) {
        Failure f = Failure.of(e);
        if (onNoActiveAction != null && f == Failure.NO_ACTIVE_ACTION) {
          log.debug("no active lifecycle action operation=\"{}\"", operation);
          return onNoActiveAction;
        }
        if (f == Failure.FINAL || f == Failure.NO_ACTIVE_ACTION) {
          throw new LifecycleApiException(
              String.format("%s at %s: %s", operation, where, describe(e)), code(e), e);
        }
        last = e;
        log.debug("{} failed attempt={} error={}", operation, attempt, describe(e));
      } catch (SdkClientException e) {
        Throwable root = rootCause(e);
        if (root instanceof EndpointRefusedException refused) {
          throw refused;
        }
        last = e;
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
            last instanceof AwsServiceException ase ? describe(ase) : last.getMessage()),
        last instanceof AwsServiceException ase ? code(ase) : null,
        last);
  }

  /** How one AWS service error is handled. */
  enum Failure {
    RETRY,
    NO_ACTIVE_ACTION,
    FINAL;

    static Failure of(AwsServiceException e) {
      String code = code(e);
      String message = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorMessage();
      if ("ValidationError".equals(code)
          && message != null
          && message.contains(NO_ACTIVE_ACTION_MESSAGE)) {
        return NO_ACTIVE_ACTION;
      }
      if (e.isThrottlingException() || e.statusCode() >= 500) {
        return RETRY;
      }
      return FINAL;
    }
  }

  private static String code(AwsServiceException e) {
    return e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
  }

  /** Falls back to the SDK's own message when the body was not an ErrorResponse (an HTML 500). */
  private static String describe(AwsServiceException e) {
    String message = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorMessage();
    return String.format(
        "HTTP %d %s: %s",
        e.statusCode(),
        Objects.requireNonNullElse(code(e), "(no error code)"),
        message == null ? e.getMessage() : message);
  }

  private static Throwable rootCause(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c;
  }
}
