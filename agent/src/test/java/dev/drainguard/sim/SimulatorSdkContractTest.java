package dev.drainguard.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.testing.GuardedHttpClient;
import dev.drainguard.testing.MutableClock;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.autoscaling.model.AutoScalingException;
import software.amazon.awssdk.services.autoscaling.model.LifecycleHook;

/**
 * The simulator's Auto Scaling wire format, read by the AWS SDK's own client (a test dependency
 * only): every call the agent makes, answered as the SDK understands the real API. The agent's
 * client ({@code lifecycle.QueryLifecycleActions}) is tested against the simulator and against
 * moto; this keeps the simulator from drifting to whatever the agent's client happens to read.
 */
class SimulatorSdkContractTest {

  private static final String GROUP = "workers";
  private static final String HOOK = "drain";
  private static final String ID = "i-0123456789abcdef0";

  private final MutableClock clock = MutableClock.atNewYear();
  private Simulator sim;
  private AutoScalingClient sdk;

  @BeforeEach
  void start() {
    sim = Simulator.start(clock);
    sim.addGroup(GROUP);
    sim.addInstance(GROUP, ID, "us-east-1", true);
    sim.addTerminationHook(GROUP, HOOK, Duration.ofMinutes(10), "ABANDON");
    sim.setDeregistrationDelay(Duration.ofMinutes(1));
    sdk =
        AutoScalingClient.builder()
            .region(Region.US_EAST_1)
            .endpointOverride(sim.autoScalingEndpoint())
            .credentialsProvider(
                StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
            .httpClient(
                new GuardedHttpClient(
                    UrlConnectionHttpClient.create(), LoopbackGuard.of(true), "simulator"))
            .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
            .build();
  }

  @AfterEach
  void stop() {
    sdk.close();
    sim.close();
  }

  @Test
  void describes_readBySdk() {
    LifecycleHook hook =
        sdk.describeLifecycleHooks(r -> r.autoScalingGroupName(GROUP).lifecycleHookNames(HOOK))
            .lifecycleHooks()
            .get(0);
    assertThat(hook.lifecycleHookName()).isEqualTo(HOOK);
    assertThat(hook.lifecycleTransition()).isEqualTo("autoscaling:EC2_INSTANCE_TERMINATING");
    assertThat(hook.heartbeatTimeout()).isEqualTo(600);
    assertThat(hook.globalTimeout()).isEqualTo(60_000);
    assertThat(hook.defaultResult()).isEqualTo("ABANDON");

    var instance = sdk.describeAutoScalingInstances(r -> r.instanceIds(ID)).autoScalingInstances();
    assertThat(instance)
        .singleElement()
        .satisfies(
            i -> {
              assertThat(i.autoScalingGroupName()).isEqualTo(GROUP);
              assertThat(i.lifecycleState()).isEqualTo("InService");
              assertThat(i.protectedFromScaleIn()).isFalse();
            });
  }

  @Test
  void actions_acceptedAsTheSdkSendsThem_andNoActiveActionIsAValidationError() {
    AutoScalingException before =
        catchThrowableOfType(
            AutoScalingException.class,
            () ->
                sdk.recordLifecycleActionHeartbeat(
                    r -> r.autoScalingGroupName(GROUP).lifecycleHookName(HOOK).instanceId(ID)));
    assertThat(before.statusCode()).isEqualTo(400);
    assertThat(before.awsErrorDetails().errorCode()).isEqualTo("ValidationError");
    assertThat(before.awsErrorDetails().errorMessage())
        .contains("No active Lifecycle Action found");

    sdk.setInstanceProtection(
        r -> r.autoScalingGroupName(GROUP).instanceIds(ID).protectedFromScaleIn(true));
    assertThat(sim.isProtected(ID)).isTrue();
    sdk.setInstanceProtection(
        r -> r.autoScalingGroupName(GROUP).instanceIds(ID).protectedFromScaleIn(false));

    sim.terminate(ID);
    clock.advance(Duration.ofMinutes(1));
    sdk.recordLifecycleActionHeartbeat(
        r -> r.autoScalingGroupName(GROUP).lifecycleHookName(HOOK).instanceId(ID));
    sdk.completeLifecycleAction(
        r ->
            r.autoScalingGroupName(GROUP)
                .lifecycleHookName(HOOK)
                .instanceId(ID)
                .lifecycleActionResult("CONTINUE"));
    assertThat(sim.actionEnd(ID)).get().extracting(ActionEnd::result).isEqualTo("CONTINUE");
  }

  @Test
  void terminate_andThrottling_asTheSdkReadsThem() {
    sim.throttleApi(
        "DescribeAutoScalingInstances", clock.instant(), clock.instant().plusSeconds(60));
    AutoScalingException throttled =
        catchThrowableOfType(
            AutoScalingException.class,
            () -> sdk.describeAutoScalingInstances(r -> r.instanceIds(ID)));
    assertThat(throttled.isThrottlingException()).isTrue();

    sdk.terminateInstanceInAutoScalingGroup(
        r -> r.instanceId(ID).shouldDecrementDesiredCapacity(false));
    assertThat(sim.calls("TerminateInstanceInAutoScalingGroup"))
        .singleElement()
        .satisfies(c -> assertThat(c.succeeded()).isTrue());
  }
}
