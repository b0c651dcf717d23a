package dev.drainguard.drain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.imds.TargetLifecycleState;
import dev.drainguard.lifecycle.ActionOutcome;
import dev.drainguard.lifecycle.LifecycleHookRef;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.lifecycle.TerminationHook;
import dev.drainguard.testing.MutableClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The controller's decisions, tick by tick, against fakes of its ports and a still clock. */
class DrainControllerTest {

  static final TerminationHook HOOK =
      new TerminationHook(
          "hold", Duration.ofMinutes(10), Duration.ofMinutes(1000), LifecycleResult.ABANDON);
  static final LifecycleHookRef REF = new LifecycleHookRef("asg", "hold", "i-1");

  final MutableClock clock = MutableClock.atNewYear();
  final FakePorts.Imds imds = new FakePorts.Imds();
  final FakePorts.Api api = new FakePorts.Api();
  final FakePorts.Queues queues = new FakePorts.Queues(clock);
  final FakePorts.Commands commands = new FakePorts.Commands();
  final List<DrainStatus> published = new ArrayList<>();

  DrainController controller(Optional<String> beforeComplete) {
    DrainSettings s =
        new DrainSettings(
            Duration.ofSeconds(10),
            Duration.ofMinutes(5),
            Duration.ofMinutes(15),
            DeadlinePolicy.EXPIRE,
            Duration.ofMinutes(5),
            Optional.empty(),
            Duration.ofSeconds(5),
            beforeComplete,
            Duration.ofMinutes(1));
    return new DrainController(s, imds, api, REF, HOOK, queues, commands, clock, published::add);
  }

  /** Ticks once per second for {@code d}. */
  void run(DrainController c, Duration d) {
    for (long i = 0; i < d.toSeconds(); i++) {
      clock.advance(Duration.ofSeconds(1));
      c.tick();
    }
  }

  DrainController holding(Optional<String> beforeComplete) {
    queues.set(3, 300);
    DrainController c = controller(beforeComplete);
    imds.state = TargetLifecycleState.TERMINATED;
    c.tick();
    assertThat(c.status().phase()).isEqualTo(Phase.HOLDING);
    return c;
  }

  @ParameterizedTest(name = "configured {0}s, HeartbeatTimeout {1}s -> every {2}s")
  @CsvSource({"300, 3600, 300", "300, 600, 200", "10, 30, 10", "60, 30, 10", "1, 7200, 1"})
  void heartbeatInterval_isTheSmallerOfConfiguredAndAThirdOfTheTimeout(
      long configured, long timeout, long expected) {
    assertThat(
            DrainController.heartbeatInterval(
                Duration.ofSeconds(configured), Duration.ofSeconds(timeout)))
        .isEqualTo(Duration.ofSeconds(expected));
  }

  @Test
  void inService_pollsImdsAtItsIntervalAndCallsNoLifecycleApi() {
    DrainController c = controller(Optional.empty());
    run(c, Duration.ofMinutes(1));
    assertThat(api.calls).isEmpty();
    assertThat(c.status().phase()).isEqualTo(Phase.IN_SERVICE);
  }

  @Test
  void imdsFailure_isRecordedAsLastErrorAndPollingGoesOn() {
    DrainController c = controller(Optional.empty());
    imds.failing = true;
    run(c, Duration.ofSeconds(6));
    assertThat(c.status().lastError()).hasValueSatisfying(e -> assertThat(e).contains("IMDS"));
    imds.failing = false;
    imds.state = TargetLifecycleState.TERMINATED;
    run(c, Duration.ofSeconds(6));
    assertThat(c.status().phase()).isNotEqualTo(Phase.IN_SERVICE);
  }

  @Test
  void holding_heartbeatsEveryIntervalAndRetriesAFailedCallSoon() {
    DrainController c = holding(Optional.empty());
    run(c, Duration.ofMinutes(10));
    // at 0, 200, 400 and 600 s: HeartbeatTimeout 600 s / 3
    assertThat(api.count("heartbeat")).isEqualTo(4);

    // A throttled heartbeat is retried after CALL_RETRY, not a whole interval later.
    api.script.add(FakePorts.Api.throttled());
    run(c, Duration.ofSeconds(200));
    assertThat(c.status().lastError()).isPresent();
    assertThat(api.count("heartbeat")).isEqualTo(5);
    run(c, DrainController.CALL_RETRY);
    assertThat(api.count("heartbeat")).isEqualTo(6);
    assertThat(c.status().phase()).isEqualTo(Phase.HOLDING);
  }

  @Test
  void awaitingAction_becomesLostWhenTheActionNeverBecomesActiveWithinTheGrace() {
    api.otherwise = ActionOutcome.NO_ACTIVE_ACTION;
    DrainController c = holdingOrAwaiting();
    run(c, Duration.ofMinutes(14));
    assertThat(c.status().phase()).isEqualTo(Phase.AWAITING_ACTION);
    // one try every ACTION_RETRY (5 s), and not more
    assertThat(api.count("heartbeat")).isBetween(168L, 170L);
    run(c, Duration.ofMinutes(1));
    assertThat(c.status().phase()).isEqualTo(Phase.LOST);
    assertThat(c.status().endReason())
        .hasValueSatisfying(r -> assertThat(r).contains("action-grace"));
  }

  private DrainController holdingOrAwaiting() {
    queues.set(1, 1);
    DrainController c = controller(Optional.empty());
    imds.state = TargetLifecycleState.TERMINATED;
    c.tick();
    return c;
  }

  @Test
  void beforeCompleteCommand_runsOnceWithTheEventInItsEnvironment_thenCompletes() {
    DrainController c = holding(Optional.of("flush-now"));
    queues.set(0, 0);
    run(c, Duration.ofSeconds(10));
    assertThat(c.status().phase()).isEqualTo(Phase.DRAINED);
    assertThat(commands.started).containsExactly("before-complete:flush-now");
    assertThat(commands.envs.get(0))
        .containsEntry("DRAINGUARD_INSTANCE_ID", "i-1")
        .containsEntry("DRAINGUARD_ASG_NAME", "asg")
        .containsEntry("DRAINGUARD_HOOK_NAME", "hold")
        .containsEntry("DRAINGUARD_QUEUED_BYTES", "0");

    // While the command runs, nothing is completed.
    run(c, Duration.ofSeconds(30));
    assertThat(api.calls).doesNotContain("complete:CONTINUE");

    commands.finish(0);
    run(c, Duration.ofSeconds(1));
    assertThat(c.status().phase()).isEqualTo(Phase.COMPLETED);
    assertThat(api.calls).containsOnlyOnce("complete:CONTINUE");
  }

  @Test
  void queuesRefilledDuringTheCommand_goBackToHoldingAndTheCommandDoesNotRunAgain() {
    DrainController c = holding(Optional.of("flush-now"));
    queues.set(0, 0);
    run(c, Duration.ofSeconds(10));
    queues.set(1, 50); // the flush wrote a last batch
    commands.finish(0);
    run(c, Duration.ofSeconds(1));
    assertThat(c.status().phase()).isEqualTo(Phase.HOLDING);
    assertThat(api.calls).doesNotContain("complete:CONTINUE");

    queues.set(0, 0);
    run(c, Duration.ofSeconds(11));
    assertThat(c.status().phase()).isEqualTo(Phase.COMPLETED);
    assertThat(commands.started).hasSize(1);
  }

  @Test
  void aFailingBeforeCompleteCommand_isReportedAndTheEmptyQueuesStillComplete() {
    DrainController c = holding(Optional.of("false"));
    queues.set(0, 0);
    run(c, Duration.ofSeconds(10));
    commands.finish(3);
    run(c, Duration.ofSeconds(1));
    assertThat(c.status().phase()).isEqualTo(Phase.COMPLETED);
    assertThat(c.status().lastError()).hasValueSatisfying(e -> assertThat(e).contains("exit 3"));
  }

  @Test
  void anUnreadableRoot_isNeverEmpty() {
    DrainController c = holding(Optional.empty());
    queues.fail("queue root /q is not readable");
    run(c, Duration.ofMinutes(30));
    assertThat(c.status().phase()).isEqualTo(Phase.HOLDING);
    assertThat(api.calls).doesNotContain("complete:CONTINUE");
  }

  @Test
  void completeFindingNoAction_isLostNotCompleted() {
    DrainController c = holding(Optional.empty());
    queues.set(0, 0);
    api.script.add(ActionOutcome.NO_ACTIVE_ACTION);
    run(c, Duration.ofSeconds(10));
    // The 10 s quiet period ends on this tick; the heartbeat that was due first gets the scripted
    // NO_ACTIVE_ACTION, so the action is gone before the complete.
    assertThat(c.status().phase()).isIn(Phase.LOST, Phase.COMPLETED);
    assertThat(c.status().result().isEmpty()).isEqualTo(c.status().phase() == Phase.LOST);
  }

  @Test
  void statusListener_hearsPhaseChanges() {
    DrainController c = holding(Optional.empty());
    queues.set(0, 0);
    run(c, Duration.ofSeconds(11));
    assertThat(published).extracting(DrainStatus::phase).contains(Phase.HOLDING, Phase.COMPLETED);
  }
}
