package dev.drainguard.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.net.RecordingSleeper;
import dev.drainguard.net.RetryPolicy;
import dev.drainguard.testing.MotoServer;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;

/**
 * The lifecycle adapter's parsing checked against moto ({@code moto_server} on 127.0.0.1), an
 * implementation of the Auto Scaling Query API that this project did not write, so the simulator
 * and the adapter cannot share a misreading of the wire format.
 *
 * <p>Skipped, with a message in the build log, only when {@code moto_server} is not installed.
 *
 * <p>Where moto differs from the real API (checked against moto 5.2.1):
 *
 * <ul>
 *   <li>DescribeLifecycleHooks reports GlobalTimeout 172800 (48 h) for every hook; Auto Scaling
 *       reports min(48 h, 100 x HeartbeatTimeout), 30000 s for the hook here.
 *   <li>RecordLifecycleActionHeartbeat (and CompleteLifecycleAction) are not implemented: moto
 *       answers HTTP 500 with an HTML page, where Auto Scaling would answer 400 ValidationError "No
 *       active Lifecycle Action found" for an InService instance.
 * </ul>
 */
class MotoContractTest {

  private static final String GROUP = "moto-workers";
  private static final String HOOK = "drain";
  private static final String LAUNCH_CONFIGURATION = "moto-workers-lc";

  /**
   * moto accepts any well-formed AMI id for a launch configuration; it launches a fake instance.
   */
  private static final String IMAGE_ID = "ami-12345678";

  private static final Duration HEARTBEAT_TIMEOUT = Duration.ofSeconds(300);

  /** What moto reports as GlobalTimeout, whatever the heartbeat timeout: a fixed 48 h. */
  private static final Duration MOTO_GLOBAL_TIMEOUT = Duration.ofHours(48);

  private static final RetryPolicy POLICY =
      new RetryPolicy(2, Duration.ofMillis(50), Duration.ofMillis(50));

  private static MotoServer moto;
  private static URI endpoint;
  private static AutoScalingClient setup;
  private static String instanceId;

  private final RecordingSleeper sleeper = new RecordingSleeper();

  @BeforeAll
  static void startMoto() throws Exception {
    moto = MotoServer.start(MotoContractTest.class, Path.of("target", "moto-server.log"));
    endpoint = moto.endpoint();
    setup = moto.setup();
    setup.createLaunchConfiguration(
        r ->
            r.launchConfigurationName(LAUNCH_CONFIGURATION)
                .imageId(IMAGE_ID)
                .instanceType("t3.micro"));
    setup.createAutoScalingGroup(
        r ->
            r.autoScalingGroupName(GROUP)
                .launchConfigurationName(LAUNCH_CONFIGURATION)
                .minSize(0)
                .maxSize(2)
                .desiredCapacity(1)
                .availabilityZones("us-east-1a"));
    setup.putLifecycleHook(
        r ->
            r.autoScalingGroupName(GROUP)
                .lifecycleHookName(HOOK)
                .lifecycleTransition(QueryLifecycleActions.TERMINATING)
                .heartbeatTimeout((int) HEARTBEAT_TIMEOUT.toSeconds())
                .defaultResult("ABANDON"));
    // A launching hook too, so the adapter's filter on the transition is exercised.
    setup.putLifecycleHook(
        r ->
            r.autoScalingGroupName(GROUP)
                .lifecycleHookName("warm-up")
                .lifecycleTransition("autoscaling:EC2_INSTANCE_LAUNCHING")
                .heartbeatTimeout(60)
                .defaultResult("CONTINUE"));
    instanceId =
        setup
            .describeAutoScalingGroups(r -> r.autoScalingGroupNames(GROUP))
            .autoScalingGroups()
            .get(0)
            .instances()
            .get(0)
            .instanceId();
  }

  @AfterAll
  static void stopMoto() {
    if (moto != null) {
      moto.close();
    }
  }

  private QueryLifecycleActions adapter() {
    return new QueryLifecycleActions(
        "us-east-1", endpoint, MotoServer.CREDENTIALS, LoopbackGuard.of(true), POLICY, sleeper);
  }

  @Test
  void terminationHooks_terminatingHookAsMotoReportsIt() {
    try (QueryLifecycleActions actions = adapter()) {
      List<TerminationHook> hooks = actions.terminationHooks(GROUP);

      // The real API would report GlobalTimeout 30000 s (100 x 300 s); moto always says 172800 s.
      assertThat(hooks)
          .containsExactly(
              new TerminationHook(
                  HOOK, HEARTBEAT_TIMEOUT, MOTO_GLOBAL_TIMEOUT, LifecycleResult.ABANDON));
    }
  }

  // The one-hook re-read (issue 14) asks by name: moto must honour LifecycleHookNames, and a
  // launching hook of that name must not be taken for the termination hook.
  @Test
  void terminationHook_byName_theTerminatingHookOnly() {
    try (QueryLifecycleActions actions = adapter()) {
      assertThat(actions.terminationHook(GROUP, HOOK))
          .contains(
              new TerminationHook(
                  HOOK, HEARTBEAT_TIMEOUT, MOTO_GLOBAL_TIMEOUT, LifecycleResult.ABANDON));
      assertThat(actions.terminationHook(GROUP, "warm-up")).isEmpty();
      assertThat(actions.terminationHook(GROUP, "nope")).isEmpty();
    }
  }

  @Test
  void describeInstance_launchedInstance_groupAndInService() {
    try (QueryLifecycleActions actions = adapter()) {
      assertThat(actions.describeInstance(instanceId))
          .contains(new GroupMembership(GROUP, "InService"));
    }
  }

  @Test
  void describeInstance_unknownInstance_empty() {
    try (QueryLifecycleActions actions = adapter()) {
      assertThat(actions.describeInstance("i-00000000000000000")).isEmpty();
    }
  }

  // moto does not implement RecordLifecycleActionHeartbeat and answers 500 with an HTML page, no
  // ErrorResponse: the adapter must still classify it (a 5xx is retried), then fail with a message
  // naming the operation and ids and what came back (it once read "HTTP 500 null: null"), never
  // mistake it for "No active Lifecycle Action".
  @Test
  void heartbeat_notImplementedByMoto_retriedThenLifecycleApiExceptionNamingTheIds() {
    LifecycleHookRef ref = new LifecycleHookRef(GROUP, HOOK, instanceId);
    try (QueryLifecycleActions actions = adapter()) {
      LifecycleApiException e =
          catchThrowableOfType(LifecycleApiException.class, () -> actions.heartbeat(ref));

      assertThat(e)
          .hasMessageContaining("heartbeat for hook=drain asg=" + GROUP + " instance=" + instanceId)
          .hasMessageContaining("after " + POLICY.attempts() + " attempts")
          .hasMessageContaining("HTTP 500 (no error code)")
          .hasMessageContaining("Internal Server Error")
          .hasMessageNotContaining("null: null");
      assertThat(e.errorCode()).isNull();
      assertThat(sleeper.pauses()).hasSize(POLICY.attempts() - 1);
    }
  }
}
