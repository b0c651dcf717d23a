package dev.drainguard.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import dev.drainguard.aws.AwsCredentials;
import dev.drainguard.aws.CredentialsProvider;
import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.net.RecordingSleeper;
import dev.drainguard.net.RetryPolicy;
import dev.drainguard.sim.ActionEnd;
import dev.drainguard.sim.ApiCall;
import dev.drainguard.sim.Simulator;
import dev.drainguard.sim.Termination;
import dev.drainguard.testing.MutableClock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Auto Scaling adapter against the simulator's Query API over loopback HTTP. */
class QueryLifecycleActionsTest {

  private static final String GROUP = "workers";
  private static final String HOOK = "drain";
  private static final String ID = "i-0123456789abcdef0";
  private static final Duration HEARTBEAT_TIMEOUT = Duration.ofMinutes(10);
  private static final Duration DEREGISTRATION = Duration.ofMinutes(5);
  private static final LifecycleHookRef REF = new LifecycleHookRef(GROUP, HOOK, ID);
  private static final RetryPolicy POLICY =
      new RetryPolicy(3, Duration.ofMillis(100), Duration.ofSeconds(1));
  private static final String HEARTBEAT = "RecordLifecycleActionHeartbeat";

  private final MutableClock clock = MutableClock.atNewYear();
  private final RecordingSleeper sleeper = new RecordingSleeper();
  private Simulator sim;
  private QueryLifecycleActions actions;

  @BeforeEach
  void start() {
    sim = Simulator.start(clock);
    sim.addGroup(GROUP);
    sim.addInstance(GROUP, ID, "us-east-1", true);
    sim.addTerminationHook(GROUP, HOOK, HEARTBEAT_TIMEOUT, "ABANDON");
    sim.setDeregistrationDelay(DEREGISTRATION);
    actions =
        new QueryLifecycleActions(
            "us-east-1",
            sim.autoScalingEndpoint(),
            CredentialsProvider.fixed(AwsCredentials.of("test", "test", "fixed test keys")),
            LoopbackGuard.of(true),
            POLICY,
            sleeper);
  }

  @AfterEach
  void stop() {
    actions.close();
    sim.close();
  }

  /** Starts the scale-in and lets deregistration pass: the action is active. */
  private void reachTerminatingWait() {
    sim.terminate(ID);
    clock.advance(DEREGISTRATION);
    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminating:Wait");
  }

  // Auto Scaling answers ValidationError "No active Lifecycle Action found" until the action
  // starts; the controller's grace period depends on seeing it as a state, not an exception.
  @Test
  void heartbeat_beforeTheActionIsActive_noActiveActionNotAnException() {
    assertThat(actions.heartbeat(REF)).isEqualTo(ActionOutcome.NO_ACTIVE_ACTION);

    sim.terminate(ID);
    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminating");
    assertThat(actions.heartbeat(REF)).isEqualTo(ActionOutcome.NO_ACTIVE_ACTION);

    assertThat(sim.calls(HEARTBEAT))
        .extracting(ApiCall::httpStatus, ApiCall::errorCode)
        .containsOnly(tuple(400, "ValidationError"));
    assertThat(sleeper.pauses()).as("not retried").isEmpty();
  }

  @Test
  void heartbeat_duringTerminatingWait_acceptedByInstanceIdWithoutToken() {
    reachTerminatingWait();

    assertThat(actions.heartbeat(REF)).isEqualTo(ActionOutcome.ACCEPTED);

    ApiCall call = sim.calls(HEARTBEAT).get(0);
    assertThat(call.succeeded()).isTrue();
    assertThat(call.params())
        .containsEntry("AutoScalingGroupName", GROUP)
        .containsEntry("LifecycleHookName", HOOK)
        .containsEntry("InstanceId", ID)
        .doesNotContainKey("LifecycleActionToken");
  }

  @Test
  void complete_continue_acceptedAndTheActionEndsCompletedContinue() {
    reachTerminatingWait();

    assertThat(actions.complete(REF, LifecycleResult.CONTINUE)).isEqualTo(ActionOutcome.ACCEPTED);

    assertThat(sim.actionEnd(ID))
        .get()
        .extracting(ActionEnd::kind, ActionEnd::result)
        .containsExactly(ActionEnd.Kind.COMPLETED, "CONTINUE");
    assertThat(sim.calls("CompleteLifecycleAction").get(0).params())
        .containsEntry("LifecycleActionResult", "CONTINUE");
  }

  // Once completed (by us or anyone else) the action is gone: the same "No active Lifecycle
  // Action" answer, which the controller reads as LOST rather than crashing.
  @Test
  void complete_afterTheActionWasCompleted_noActiveAction() {
    reachTerminatingWait();
    actions.complete(REF, LifecycleResult.CONTINUE);

    assertThat(actions.complete(REF, LifecycleResult.CONTINUE))
        .isEqualTo(ActionOutcome.NO_ACTIVE_ACTION);
    assertThat(actions.heartbeat(REF)).isEqualTo(ActionOutcome.NO_ACTIVE_ACTION);
  }

  @Test
  void terminationHooks_parsesNameTimeoutsAndDefaultResult() {
    List<TerminationHook> hooks = actions.terminationHooks(GROUP);

    // GlobalTimeout = 100 x HeartbeatTimeout while that is under 48 h
    assertThat(hooks)
        .containsExactly(
            new TerminationHook(
                HOOK,
                HEARTBEAT_TIMEOUT,
                HEARTBEAT_TIMEOUT.multipliedBy(100),
                LifecycleResult.ABANDON));
  }

  @Test
  void terminationHooks_longHeartbeatTimeout_globalTimeoutCappedAt48Hours() {
    sim.addGroup("batch");
    sim.addTerminationHook("batch", "flush", Duration.ofHours(2), "CONTINUE");

    assertThat(actions.terminationHooks("batch"))
        .containsExactly(
            new TerminationHook(
                "flush", Duration.ofHours(2), Duration.ofHours(48), LifecycleResult.CONTINUE));
  }

  @Test
  void terminationHooks_groupWithoutHook_empty() {
    sim.addGroup("plain");

    assertThat(actions.terminationHooks("plain")).isEmpty();
  }

  @Test
  void terminationHooks_unknownGroup_lifecycleApiExceptionNamingTheGroup() {
    LifecycleApiException e =
        catchThrowableOfType(LifecycleApiException.class, () -> actions.terminationHooks("nope"));

    assertThat(e).hasMessageContaining("asg=nope").hasMessageContaining("ValidationError");
    assertThat(e.errorCode()).isEqualTo("ValidationError");
    assertThat(sleeper.pauses()).isEmpty();
  }

  @Test
  void describeInstance_member_groupAndLifecycleState() {
    assertThat(actions.describeInstance(ID)).contains(new GroupMembership(GROUP, "InService"));

    reachTerminatingWait();

    assertThat(actions.describeInstance(ID))
        .contains(new GroupMembership(GROUP, "Terminating:Wait"));
  }

  @Test
  void describeInstance_unknownInstance_empty() {
    assertThat(actions.describeInstance("i-0000000000unknown")).isEmpty();
  }

  @Test
  void heartbeat_throttledTwice_retriedWithGrowingPausesThenAccepted() {
    reachTerminatingWait();
    sim.failApi(HEARTBEAT, 2, 400, "Throttling", "Rate exceeded");

    assertThat(actions.heartbeat(REF)).isEqualTo(ActionOutcome.ACCEPTED);

    assertThat(sim.calls(HEARTBEAT))
        .extracting(ApiCall::errorCode)
        .containsExactly("Throttling", "Throttling", null);
    assertThat(sleeper.pauses()).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200));
  }

  @Test
  void heartbeat_serviceUnavailableBeyondThePolicy_lifecycleApiExceptionNamingOperationAndIds() {
    reachTerminatingWait();
    sim.failApi(HEARTBEAT, 10, 503, "ServiceUnavailable", "Service is unavailable");

    LifecycleApiException e =
        catchThrowableOfType(LifecycleApiException.class, () -> actions.heartbeat(REF));

    assertThat(e)
        .hasMessageContaining("heartbeat for hook=drain asg=workers instance=" + ID)
        .hasMessageContaining(sim.autoScalingEndpoint().toString())
        .hasMessageContaining("after 3 attempts")
        .hasMessageContaining("HTTP 503");
    assertThat(e.errorCode()).isEqualTo("ServiceUnavailable");
    assertThat(sim.calls(HEARTBEAT)).hasSize(POLICY.attempts());
    assertThat(sleeper.pauses()).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200));
  }

  // A permission problem does not pass by retrying: it must reach the operator at once.
  @Test
  void heartbeat_accessDenied_lifecycleApiExceptionAtOnce() {
    reachTerminatingWait();
    sim.failApi(
        HEARTBEAT, 10, 403, "AccessDenied", "User is not authorized to perform: " + HEARTBEAT);

    LifecycleApiException e =
        catchThrowableOfType(LifecycleApiException.class, () -> actions.heartbeat(REF));

    assertThat(e).hasMessageContaining("heartbeat for hook=drain asg=workers instance=" + ID);
    assertThat(e.errorCode()).isEqualTo("AccessDenied");
    assertThat(sim.calls(HEARTBEAT)).hasSize(1);
    assertThat(sleeper.pauses()).isEmpty();
  }

  // Only "No active Lifecycle Action found" is a state: any other ValidationError (here a hook
  // name that does not exist) is a real fault and must not be mistaken for "not active yet".
  @Test
  void heartbeat_otherValidationError_lifecycleApiExceptionNotNoActiveAction() {
    reachTerminatingWait();
    LifecycleHookRef wrongHook = new LifecycleHookRef(GROUP, "no-such-hook", ID);

    LifecycleApiException e =
        catchThrowableOfType(LifecycleApiException.class, () -> actions.heartbeat(wrongHook));

    assertThat(e).hasMessageContaining("No Lifecycle Hook found with name no-such-hook");
    assertThat(e.errorCode()).isEqualTo("ValidationError");
    assertThat(sim.calls(HEARTBEAT)).hasSize(1);
  }

  @Test
  void complete_validationErrorInjected_lifecycleApiExceptionNotNoActiveAction() {
    reachTerminatingWait();
    sim.failApi(
        "CompleteLifecycleAction",
        1,
        400,
        "ValidationError",
        "1 validation error detected: Value at 'lifecycleActionResult' failed to satisfy"
            + " constraint");

    assertThatThrownBy(() -> actions.complete(REF, LifecycleResult.CONTINUE))
        .isInstanceOf(LifecycleApiException.class)
        .hasMessageContaining("complete(CONTINUE) for hook=drain asg=workers instance=" + ID);
    assertThat(sim.actionEnd(ID)).isEmpty();
  }

  /** Scale-in, then ABANDON in a group that retains: the instance is Terminating:Retained. */
  private void reachRetained() {
    sim.setRetainOnTerminateHookAbandon(GROUP, true);
    reachTerminatingWait();
    assertThat(actions.complete(REF, LifecycleResult.ABANDON)).isEqualTo(ActionOutcome.ACCEPTED);
    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminating:Retained");
  }

  @Test
  void describeInstance_retained_terminatingRetained() {
    reachRetained();

    assertThat(actions.describeInstance(ID))
        .contains(new GroupMembership(GROUP, "Terminating:Retained"));
  }

  @Test
  void terminateInstance_retained_terminatedWithDesiredCapacityKept() {
    reachRetained();
    clock.advance(Duration.ofDays(3));
    int capacity = sim.desiredCapacity(GROUP);

    actions.terminateInstance(ID);

    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminated");
    assertThat(sim.termination(ID)).contains(new Termination(clock.instant(), false));
    assertThat(sim.desiredCapacity(GROUP)).isEqualTo(capacity);
    assertThat(sim.calls("TerminateInstanceInAutoScalingGroup"))
        .singleElement()
        .satisfies(
            c ->
                assertThat(c.params())
                    .containsEntry("InstanceId", ID)
                    .containsEntry("ShouldDecrementDesiredCapacity", "false"));
  }

  @Test
  void terminateInstance_unknownInstance_lifecycleApiExceptionAtOnce() {
    LifecycleApiException e =
        catchThrowableOfType(
            LifecycleApiException.class, () -> actions.terminateInstance("i-0000000000unknown"));

    assertThat(e).hasMessageContaining("instance=i-0000000000unknown");
    assertThat(e.errorCode()).isEqualTo("ValidationError");
    assertThat(sleeper.pauses()).isEmpty();
  }

  @Test
  void setProtection_trueThenFalse_simulatorProtection() {
    actions.setProtection(GROUP, ID, true);

    assertThat(sim.isProtected(ID)).isTrue();

    actions.setProtection(GROUP, ID, false);

    assertThat(sim.isProtected(ID)).isFalse();
    assertThat(sim.calls("SetInstanceProtection"))
        .extracting(c -> c.params().get("ProtectedFromScaleIn"))
        .containsExactly("true", "false");
  }

  @Test
  void setProtection_unknownGroup_lifecycleApiExceptionNamingGroupAndInstance() {
    assertThatThrownBy(() -> actions.setProtection("nope", ID, true))
        .isInstanceOf(LifecycleApiException.class)
        .hasMessageContaining("asg=nope")
        .hasMessageContaining("instance=" + ID);
  }
}
