package dev.drainguard.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.drainguard.aws.AwsCredentials;
import dev.drainguard.aws.CredentialsProvider;
import dev.drainguard.lifecycle.GroupMembership.Stage;
import dev.drainguard.lifecycle.LifecycleApiException.Kind;
import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.net.RecordingSleeper;
import dev.drainguard.net.RetryPolicy;
import dev.drainguard.sim.ApiCall;
import dev.drainguard.sim.Simulator;
import dev.drainguard.testing.MutableClock;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The reads issue 14 builds on, against the simulator over loopback: one hook re-read with its
 * current values, and describe failures that are told apart from "not in the group".
 */
class QueryLifecycleActionsReadsTest {

  private static final String GROUP = "workers";
  private static final String HOOK = "drain";
  private static final String ID = "i-0123456789abcdef0";
  private static final LifecycleHookRef REF = new LifecycleHookRef(GROUP, HOOK, ID);
  private static final RetryPolicy POLICY =
      new RetryPolicy(3, Duration.ofMillis(100), Duration.ofSeconds(1));
  private static final String DESCRIBE = "DescribeAutoScalingInstances";
  private static final String DESCRIBE_HOOKS = "DescribeLifecycleHooks";

  private final MutableClock clock = MutableClock.atNewYear();
  private final RecordingSleeper sleeper = new RecordingSleeper();
  private Simulator sim;
  private QueryLifecycleActions actions;

  @BeforeEach
  void start() {
    sim = Simulator.start(clock);
    sim.addGroup(GROUP);
    sim.addInstance(GROUP, ID, "us-east-1", true);
    sim.addTerminationHook(GROUP, HOOK, Duration.ofHours(1), "ABANDON");
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

  // Issue 14, case 1: the hook read at start (1 h, ABANDON) was lowered since; the re-read must
  // give the values in force now, asked by name.
  @Test
  void terminationHook_afterPutLifecycleHook_theCurrentValues() {
    sim.putTerminationHook(GROUP, HOOK, Duration.ofMinutes(5), "CONTINUE");

    assertThat(actions.terminationHook(GROUP, HOOK))
        .contains(
            new TerminationHook(
                HOOK, Duration.ofMinutes(5), Duration.ofMinutes(500), LifecycleResult.CONTINUE));
    assertThat(sim.calls(DESCRIBE_HOOKS))
        .singleElement()
        .satisfies(
            c ->
                assertThat(c.params())
                    .containsEntry("AutoScalingGroupName", GROUP)
                    .containsEntry("LifecycleHookNames.member.1", HOOK));
  }

  @Test
  void terminationHook_noHookOfThatName_empty() {
    sim.addGroup("plain");

    assertThat(actions.terminationHook(GROUP, "other")).isEmpty();
    assertThat(actions.terminationHook("plain", HOOK)).isEmpty();
  }

  @Test
  void terminationHook_unknownGroup_rejectedNotEmpty() {
    LifecycleApiException e =
        catchThrowableOfType(
            LifecycleApiException.class, () -> actions.terminationHook("nope", HOOK));

    assertThat(e).hasMessageContaining("hook=" + HOOK + " of asg=nope");
    assertThat(e.kind()).isEqualTo(Kind.REJECTED);
    assertThat(e.transientFailure()).isFalse();
  }

  // Issue 14, case 4: a throttled describe was read as "not retained", hence LOST. It must be an
  // exception that says "ask again", never an empty answer.
  @Test
  void describeInstance_throttledOnEveryTry_transientExceptionNeverEmpty() {
    sim.throttleApi(DESCRIBE, clock.instant(), clock.instant().plusSeconds(60));

    LifecycleApiException e =
        catchThrowableOfType(LifecycleApiException.class, () -> actions.describeInstance(ID));

    assertThat(e).hasMessageContaining("instance=" + ID).hasMessageContaining("after 3 attempts");
    assertThat(e.kind()).isEqualTo(Kind.THROTTLED);
    assertThat(e.transientFailure()).isTrue();
    assertThat(e.errorCode()).isEqualTo("Throttling");
    assertThat(sim.calls(DESCRIBE)).hasSize(POLICY.attempts());
    assertThat(sleeper.pauses()).hasSize(POLICY.attempts() - 1);
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "400, Throttling",
    "400, RequestLimitExceeded",
    "400, ThrottlingException",
    "429, TooManyRequestsException",
    "500, InternalFailure",
    "503, ServiceUnavailable"
  })
  void describeInstance_transientErrorsTwice_retriedThenAnswered(int status, String code) {
    sim.failApi(DESCRIBE, 2, status, code, "try again");

    assertThat(actions.describeInstance(ID)).contains(new GroupMembership(GROUP, "InService"));

    assertThat(sim.calls(DESCRIBE))
        .extracting(ApiCall::errorCode)
        .containsExactly(code, code, null);
    assertThat(sleeper.pauses()).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200));
  }

  @Test
  void describeInstance_serverErrorOnEveryTry_unavailable() {
    sim.failApi(DESCRIBE, 10, 503, "ServiceUnavailable", "down");

    LifecycleApiException e =
        catchThrowableOfType(LifecycleApiException.class, () -> actions.describeInstance(ID));

    assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE);
    assertThat(e.transientFailure()).isTrue();
  }

  @Test
  void describeInstance_nothingListening_unavailableWithoutErrorCode() {
    sim.close();

    LifecycleApiException e =
        catchThrowableOfType(LifecycleApiException.class, () -> actions.describeInstance(ID));

    assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE);
    assertThat(e.errorCode()).isNull();
  }

  @Test
  void describeInstance_accessDenied_rejectedAtOnce() {
    sim.failApi(DESCRIBE, 10, 403, "AccessDenied", "not authorized");

    LifecycleApiException e =
        catchThrowableOfType(LifecycleApiException.class, () -> actions.describeInstance(ID));

    assertThat(e.kind()).isEqualTo(Kind.REJECTED);
    assertThat(e.transientFailure()).isFalse();
    assertThat(sim.calls(DESCRIBE)).hasSize(1);
  }

  // Issue 14, case 3: during the blip the heartbeat says "No active" while describe says the
  // action is waiting: the two answers the controller puts together.
  @Test
  void heartbeatDuringTheBlip_noActiveAction_whileDescribeSaysWaiting() {
    sim.setActionBlip(Duration.ZERO, Duration.ofSeconds(5));
    sim.terminate(ID);

    assertThat(actions.heartbeat(REF)).isEqualTo(ActionOutcome.NO_ACTIVE_ACTION);
    assertThat(actions.describeInstance(ID))
        .get()
        .extracting(GroupMembership::stage)
        .isEqualTo(Stage.WAITING);
    clock.advance(Duration.ofSeconds(5));
    assertThat(actions.heartbeat(REF)).isEqualTo(ActionOutcome.ACCEPTED);
  }

  @Test
  void describeInstance_deregistering_stageDeregistering() {
    sim.setDeregistrationDelay(Duration.ofMinutes(20));
    sim.terminate(ID);

    assertThat(actions.heartbeat(REF)).isEqualTo(ActionOutcome.NO_ACTIVE_ACTION);
    assertThat(actions.describeInstance(ID))
        .get()
        .extracting(GroupMembership::stage)
        .isEqualTo(Stage.DEREGISTERING);
  }
}
