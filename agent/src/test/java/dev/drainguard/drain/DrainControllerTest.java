package dev.drainguard.drain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.imds.TargetLifecycleState;
import dev.drainguard.lifecycle.ActionOutcome;
import dev.drainguard.lifecycle.GroupMembership;
import dev.drainguard.lifecycle.LifecycleHookRef;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.lifecycle.TerminationHook;
import dev.drainguard.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
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
  Optional<String> onTermination = Optional.empty();
  ProtectionSettings protection = ProtectionSettings.OFF;

  Driver controller(Optional<String> beforeComplete) {
    return controller(beforeComplete, DeadlinePolicy.EXPIRE, Optional.empty());
  }

  Driver controller(
      Optional<String> beforeComplete, DeadlinePolicy policy, Optional<Duration> maxHold) {
    DrainSettings s =
        new DrainSettings(
            Duration.ofSeconds(10),
            Duration.ofMinutes(5),
            Duration.ofMinutes(15),
            policy,
            Duration.ofMinutes(5),
            maxHold,
            Duration.ofSeconds(5),
            beforeComplete,
            Duration.ofMinutes(1),
            onTermination,
            protection);
    return new Driver(s, REF, HOOK, imds, api, queues, commands, clock, published::add);
  }

  /** The queues drain, and the probe's listener tells the controller, as the watcher does. */
  void drain(Driver c) {
    queues.set(0, 0);
    c.onQueues(queues.snapshot());
  }

  /** Data arrives, and the probe's listener tells the controller. */
  void fill(Driver c, long files, long bytes) {
    queues.set(files, bytes);
    c.onQueues(queues.snapshot());
  }

  /** The SetInstanceProtection calls so far, as "protect:true|false". */
  List<String> protectCalls() {
    return api.calls.stream().filter(x -> x.startsWith("protect:")).toList();
  }

  /** Ticks once per second for {@code d}. */
  void run(Driver c, Duration d) {
    for (long i = 0; i < d.toSeconds(); i++) {
      clock.advance(Duration.ofSeconds(1));
      c.tick();
    }
  }

  Driver holding(Optional<String> beforeComplete) {
    return holding(controller(beforeComplete, DeadlinePolicy.EXPIRE, Optional.empty()));
  }

  Driver holding(Driver c) {
    queues.set(3, 300);
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
    Driver c = controller(Optional.empty());
    run(c, Duration.ofMinutes(1));
    assertThat(api.calls).isEmpty();
    assertThat(c.status().phase()).isEqualTo(Phase.IN_SERVICE);
  }

  @Test
  void imdsFailure_isRecordedAsLastErrorAndPollingGoesOn() {
    Driver c = controller(Optional.empty());
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
    Driver c = holding(Optional.empty());
    run(c, Duration.ofMinutes(10));
    // at 0, 200, 400 and 600 s: HeartbeatTimeout 600 s / 3
    assertThat(api.count("heartbeat")).isEqualTo(4);

    // A throttled heartbeat is retried after CALL_RETRY, not a whole interval later.
    api.script.add(FakePorts.Api.throttled());
    run(c, Duration.ofSeconds(200));
    assertThat(c.status().lastError()).isPresent();
    assertThat(api.count("heartbeat")).isEqualTo(5);
    run(c, Termination.CALL_RETRY);
    assertThat(api.count("heartbeat")).isEqualTo(6);
    assertThat(c.status().phase()).isEqualTo(Phase.HOLDING);
  }

  @Test
  void awaitingAction_keepsTryingWhileAutoScalingSaysTerminating_withBackoff() {
    // guards against LOST after a fixed grace while the load balancer still deregisters (issue 14)
    api.otherwise = ActionOutcome.NO_ACTIVE_ACTION;
    api.membership = Optional.of(new GroupMembership("asg", "Terminating"));
    Driver c = holdingOrAwaiting();
    run(c, Duration.ofMinutes(30));
    assertThat(c.status().phase()).isEqualTo(Phase.AWAITING_ACTION);
    // one try, and one describe, every ACTION_RETRY (5 s) at most
    assertThat(api.count("heartbeat")).isBetween(2L, 361L);
    assertThat(api.count("describe:i-1"))
        .isBetween(api.count("heartbeat") - 1, api.count("heartbeat"));
  }

  @Test
  void awaitingAction_aNoticeAutoScalingNeverBearsOut_goesBackInService_neverLost() {
    // guards against an agent that ends (LOST) on one wrong IMDS answer and then holds nothing
    api.otherwise = ActionOutcome.NO_ACTIVE_ACTION;
    api.membership = Optional.of(new GroupMembership("asg", "InService"));
    Driver c = holdingOrAwaiting();
    run(c, Duration.ofMinutes(14));
    assertThat(c.status().phase()).isEqualTo(Phase.AWAITING_ACTION);
    imds.state = TargetLifecycleState.IN_SERVICE;
    run(c, Duration.ofMinutes(5));
    assertThat(c.status().phase()).isEqualTo(Phase.IN_SERVICE);
    assertThat(c.status().noticedAt()).isEmpty();
  }

  @Test
  void awaitingAction_goneFromTheGroup_isLost() {
    api.otherwise = ActionOutcome.NO_ACTIVE_ACTION;
    Driver c = holdingOrAwaiting();
    run(c, Duration.ofSeconds(1));
    assertThat(c.status().phase()).isEqualTo(Phase.LOST);
  }

  private Driver holdingOrAwaiting() {
    queues.set(1, 1);
    Driver c = controller(Optional.empty());
    imds.state = TargetLifecycleState.TERMINATED;
    c.tick();
    return c;
  }

  @Test
  void beforeCompleteCommand_runsOnceWithTheEventInItsEnvironment_thenCompletes() {
    Driver c = holding(Optional.of("flush-now"));
    drain(c);
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
    // What the command wrote must be seen: the quiet period runs again from its end.
    run(c, Duration.ofSeconds(9));
    assertThat(api.calls).doesNotContain("complete:CONTINUE");
    run(c, Duration.ofSeconds(2));
    assertThat(c.status().phase()).isEqualTo(Phase.COMPLETED);
    assertThat(api.calls).containsOnlyOnce("complete:CONTINUE");
  }

  @Test
  void queuesRefilledDuringTheCommand_goBackToHoldingAndTheCommandDoesNotRunAgain() {
    Driver c = holding(Optional.of("flush-now"));
    drain(c);
    run(c, Duration.ofSeconds(10));
    queues.set(1, 50); // the flush wrote a last batch
    commands.finish(0);
    run(c, Duration.ofSeconds(1));
    assertThat(c.status().phase()).isEqualTo(Phase.HOLDING);
    assertThat(api.calls).doesNotContain("complete:CONTINUE");

    drain(c);
    run(c, Duration.ofSeconds(11));
    assertThat(c.status().phase()).isEqualTo(Phase.COMPLETED);
    assertThat(commands.started).hasSize(1);
  }

  @Test
  void aFailingBeforeCompleteCommand_isReportedAndTheEmptyQueuesStillComplete() {
    Driver c = holding(Optional.of("false"));
    drain(c);
    run(c, Duration.ofSeconds(10));
    commands.finish(3);
    run(c, Duration.ofSeconds(11));
    assertThat(c.status().phase()).isEqualTo(Phase.COMPLETED);
    assertThat(c.status().lastError()).hasValueSatisfying(e -> assertThat(e).contains("exit 3"));
  }

  @Test
  void anUnreadableRoot_isNeverEmpty() {
    Driver c = holding(Optional.empty());
    queues.fail("queue root /q is not readable");
    run(c, Duration.ofMinutes(30));
    assertThat(c.status().phase()).isEqualTo(Phase.HOLDING);
    assertThat(api.calls).doesNotContain("complete:CONTINUE");
  }

  @Test
  void completeFindingNoAction_isLostNotCompleted() {
    Driver c = holding(Optional.empty());
    drain(c);
    api.script.add(ActionOutcome.NO_ACTIVE_ACTION);
    run(c, Duration.ofSeconds(10));
    // The 10 s quiet period ends on this tick; the heartbeat that was due first gets the scripted
    // NO_ACTIVE_ACTION, so the action is gone before the complete.
    assertThat(c.status().phase()).isIn(Phase.LOST, Phase.COMPLETED);
    assertThat(c.status().result().isEmpty()).isEqualTo(c.status().phase() == Phase.LOST);
  }

  @Test
  void statusListener_hearsPhaseChanges() {
    Driver c = holding(Optional.empty());
    drain(c);
    run(c, Duration.ofSeconds(11));
    assertThat(published).extracting(DrainStatus::phase).contains(Phase.HOLDING, Phase.COMPLETED);
  }

  @Test
  void deadlineWhileTheCommandRuns_withDataQueued_followsThePolicyAndSendsNothing() {
    // guards against completing at the deadline just because the queues were drained when the
    // command started (data arrived while it hung)
    Driver c =
        holding(
            controller(
                Optional.of("hang"), DeadlinePolicy.EXPIRE, Optional.of(Duration.ofMinutes(2))));
    drain(c);
    run(c, Duration.ofSeconds(10));
    assertThat(c.status().phase()).isEqualTo(Phase.DRAINED);
    queues.set(2, 5_000_000);
    run(c, Duration.ofMinutes(2));
    assertThat(c.status().phase()).isEqualTo(Phase.EXPIRED);
    assertThat(c.status().bytesAtEnd()).isEqualTo(5_000_000);
    assertThat(api.calls).doesNotContain("complete:CONTINUE");
  }

  @Test
  void deadlineWhileTheCommandRuns_withQueuesEmpty_completes() {
    Driver c =
        holding(
            controller(
                Optional.of("hang"), DeadlinePolicy.EXPIRE, Optional.of(Duration.ofMinutes(2))));
    drain(c);
    run(c, Duration.ofMinutes(2));
    assertThat(c.status().phase()).isEqualTo(Phase.COMPLETED);
    assertThat(c.status().bytesAtEnd()).isZero();
  }

  @Test
  void policyComplete_aFailingCompleteIsRetriedAtTheRetryPaceAndLoggedOnce() {
    Driver c =
        holding(
            controller(
                Optional.empty(), DeadlinePolicy.COMPLETE, Optional.of(Duration.ofMinutes(2))));
    run(c, Duration.ofMinutes(2).minusSeconds(1));
    for (int i = 0; i < 100; i++) {
      api.script.add(FakePorts.Api.throttled());
    }
    run(c, Duration.ofSeconds(11)); // deadline at 2 min; ticks every second
    // at 0, 5 and 10 s past the deadline: not on every tick
    assertThat(api.count("complete:CONTINUE")).isBetween(2L, 3L);
  }

  @Test
  void policyComplete_moreDataQueuedBeforeARetry_isLoggedAgainWithTheNewBytes() {
    // found by the agent-level scenarios (seed 7000966): a CONTINUE refused at the deadline was
    // sent again after more data arrived, and the only line said the bytes of the first attempt
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
        new ch.qos.logback.core.read.ListAppender<>();
    lines.start();
    ch.qos.logback.classic.Logger log =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(DrainController.class);
    log.addAppender(lines);
    try {
      Driver c =
          holding(
              controller(
                  Optional.empty(), DeadlinePolicy.COMPLETE, Optional.of(Duration.ofMinutes(2))));
      run(c, Duration.ofMinutes(2).minusSeconds(1));
      for (int i = 0; i < 100; i++) {
        api.script.add(FakePorts.Api.throttled());
      }
      run(c, Duration.ofSeconds(3)); // the deadline: CONTINUE refused
      fill(c, 2, 4321);
      run(c, Duration.ofSeconds(20)); // retried with the new bytes queued
      assertThat(
              lines.list.stream()
                  .filter(e -> e.getLevel() == ch.qos.logback.classic.Level.ERROR)
                  .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                  .filter(m -> m.contains("bytes will be lost")))
          .as("one line per figure, the last one the bytes the retry lets go")
          .hasSize(2)
          .last()
          .asString()
          .contains("4321 bytes will be lost");
    } finally {
      log.detachAppender(lines);
    }
  }

  @Test
  void stop_meansNothingIsCompletedAnyMore() {
    Driver c = holding(Optional.empty());
    drain(c);
    c.stop();
    run(c, Duration.ofSeconds(30));
    assertThat(api.calls).doesNotContain("complete:CONTINUE");
    assertThat(c.status().phase().terminal()).isFalse();
  }

  @Test
  void aBriefNonEmptyMoment_fromTheListener_restartsTheQuietPeriod() {
    Driver c = holding(Optional.empty());
    drain(c);
    run(c, Duration.ofSeconds(5));
    // The listener delivers a snapshot of a file that came and went between two ticks.
    dev.drainguard.queue.RootStatus r =
        new dev.drainguard.queue.RootStatus(
            java.nio.file.Path.of("/q"), 1, 10, Optional.empty(), Optional.empty());
    c.onQueues(new dev.drainguard.queue.QueueSnapshot(clock.instant(), List.of(r), false));
    run(c, Duration.ofSeconds(9));
    assertThat(api.calls).doesNotContain("complete:CONTINUE");
    run(c, Duration.ofSeconds(2));
    assertThat(c.status().phase()).isEqualTo(Phase.COMPLETED);
  }

  @Test
  void holdThenRelease_inHolding() {
    Driver c = holding(Optional.empty());
    assertThat(c.hold("investigating").accepted()).isTrue();
    drain(c);
    run(c, Duration.ofMinutes(2));
    assertThat(c.status().phase()).isEqualTo(Phase.HOLDING);
    assertThat(c.status().holdReason()).contains("investigating");

    ControlResult r = c.release(false, "done");
    assertThat(r.accepted()).isTrue();
    assertThat(c.status().phase()).isEqualTo(Phase.COMPLETED);
    assertThat(c.status().endReason()).hasValueSatisfying(e -> assertThat(e).contains("done"));
  }

  @Test
  void release_refusedWhileDataIsQueued_unlessForced() {
    Driver c = holding(Optional.empty());
    ControlResult refused = c.release(false, null);
    assertThat(refused.accepted()).isFalse();
    assertThat(refused.message()).contains("300 bytes in 3 files").contains("--force");
    assertThat(api.calls).doesNotContain("complete:CONTINUE");

    ControlResult forced = c.release(true, "destination gone for good");
    assertThat(forced.accepted()).isTrue();
    assertThat(forced.message()).contains("300 queued bytes will be lost");
    assertThat(c.status().phase()).isEqualTo(Phase.COMPLETED);
    assertThat(c.status().bytesAtEnd()).isEqualTo(300);
  }

  @Test
  void release_whileAwaitingTheAction_completesAsSoonAsItIsActive() {
    queues.set(0, 0);
    api.membership = Optional.of(new GroupMembership("asg", "Terminating:Wait"));
    Driver c = controller(Optional.empty());
    api.script.add(ActionOutcome.NO_ACTIVE_ACTION);
    imds.state = TargetLifecycleState.TERMINATED;
    c.tick();
    assertThat(c.status().phase()).isEqualTo(Phase.AWAITING_ACTION);
    api.script.add(ActionOutcome.NO_ACTIVE_ACTION);
    ControlResult r = c.release(false, null);
    assertThat(r.message()).contains("as soon as the lifecycle action is active");
    // two "not active" answers: two jittered pauses, each at most 5 s and 10 s
    run(c, Duration.ofSeconds(31));
    assertThat(c.status().phase()).isEqualTo(Phase.COMPLETED);
  }

  @Test
  void holdAndRelease_areRefusedOnceTheDrainHasEnded() {
    Driver c = holding(Optional.empty());
    drain(c);
    run(c, Duration.ofSeconds(11));
    assertThat(c.status().phase()).isEqualTo(Phase.COMPLETED);
    assertThat(c.hold("x").accepted()).isFalse();
    assertThat(c.release(true, "x").accepted()).isFalse();
  }

  Driver retaining() {
    return holding(
        controller(Optional.empty(), DeadlinePolicy.RETAIN, Optional.of(Duration.ofMinutes(2))));
  }

  @Test
  void policyRetain_abandonsIntoRetention_thenTerminatesItselfOnceDrained() {
    Driver c = retaining();
    api.statesAfterAbandon.add("Terminating:Wait");
    api.statesAfterAbandon.add("Terminating:Retained");
    run(c, Duration.ofMinutes(2));
    assertThat(api.calls).contains("complete:ABANDON");
    assertThat(c.status().phase()).isEqualTo(Phase.RETAINED);
    run(c, Duration.ofSeconds(5)); // the group reports Terminating:Retained on the second look
    assertThat(c.status().retainedSince()).isPresent();

    // Days later, past any hook timeout, the destination comes back and the queue drains.
    run(c, Duration.ofMinutes(30));
    assertThat(api.calls).noneMatch(x -> x.startsWith("terminate:"));
    long heartbeatsWhileRetained = api.count("heartbeat");
    drain(c);
    run(c, Duration.ofSeconds(9));
    assertThat(api.calls).noneMatch(x -> x.startsWith("terminate:"));
    run(c, Duration.ofSeconds(1));
    assertThat(api.calls).containsOnlyOnce("terminate:i-1");
    assertThat(api.count("heartbeat")).isEqualTo(heartbeatsWhileRetained);
    DrainStatus s = c.status();
    assertThat(s.phase()).isEqualTo(Phase.COMPLETED);
    assertThat(s.bytesAtEnd()).isZero();
    assertThat(s.endReason()).hasValueSatisfying(r -> assertThat(r).contains("retained"));
  }

  @Test
  void policyRetain_onAGroupThatDoesNotRetain_saysSoWithTheBytesAtRisk() {
    Driver c = retaining();
    api.statesAfterAbandon.add("Terminating:Proceed");
    run(c, Duration.ofMinutes(2).plusSeconds(1));
    DrainStatus s = c.status();
    assertThat(s.phase()).isEqualTo(Phase.LOST);
    assertThat(s.bytesAtEnd()).isEqualTo(300);
    assertThat(s.endReason())
        .hasValueSatisfying(r -> assertThat(r).contains("does not retain instances"));
    assertThat(api.calls).noneMatch(x -> x.startsWith("terminate:"));
  }

  @Test
  void retained_releaseForce_terminatesAtOnce() {
    Driver c = retaining();
    api.statesAfterAbandon.add("Terminating:Retained");
    run(c, Duration.ofMinutes(2));
    assertThat(c.release(false, null).accepted()).isFalse();
    assertThat(c.release(true, "give up").accepted()).isTrue();
    assertThat(api.calls).containsOnlyOnce("terminate:i-1");
  }

  @Test
  void protection_setOnceBusyForAWhile_changesAtMostOncePerInterval_removedWhenDrained() {
    protection = new ProtectionSettings(true, 1000, Duration.ofSeconds(60), Duration.ofMinutes(5));
    Driver c = controller(Optional.empty());
    queues.set(5, 5000);
    run(c, Duration.ofSeconds(59));
    assertThat(api.calls).doesNotContain("protect:true");
    run(c, Duration.ofSeconds(2));
    assertThat(api.calls).containsOnlyOnce("protect:true");
    assertThat(c.status().scaleInProtected()).isTrue();

    // The queue flaps around the threshold every few seconds for four minutes: no change.
    for (int i = 0; i < 48; i++) {
      if (i % 2 == 0) {
        drain(c);
      } else {
        fill(c, 5, 5000);
      }
      run(c, Duration.ofSeconds(5));
    }
    assertThat(protectCalls()).hasSize(1);

    drain(c);
    run(c, Duration.ofSeconds(70));
    assertThat(protectCalls()).containsExactly("protect:true", "protect:false");
    assertThat(c.status().scaleInProtected()).isFalse();
  }

  @Test
  void protection_neverRemovesAProtectionItDidNotSet_andIsOffByDefault() {
    Driver c = controller(Optional.empty());
    queues.set(5, 5_000_000);
    run(c, Duration.ofMinutes(10));
    drain(c);
    run(c, Duration.ofMinutes(10));
    assertThat(api.calls).noneMatch(x -> x.startsWith("protect:"));
  }

  @Test
  void onTerminationCommand_runsOnceWhenTerminationIsNoticed_withTheEvent() {
    onTermination = Optional.of("stop-pull-inputs");
    Driver c = holding(Optional.empty());
    run(c, Duration.ofMinutes(1));
    // the first event is the notice; a queue that does not move is also at risk (its own event)
    assertThat(commands.started).first().isEqualTo("on-termination:termination:stop-pull-inputs");
    assertThat(commands.started).doesNotHaveDuplicates();
    assertThat(commands.envs.get(0))
        .containsEntry("DRAINGUARD_EVENT", "termination")
        .containsEntry("DRAINGUARD_PHASE", "AWAITING_ACTION")
        .containsEntry("DRAINGUARD_QUEUED_BYTES", "300");
    // A failing command is reported and changes nothing else.
    commands.finish(2);
    run(c, Duration.ofSeconds(1));
    assertThat(c.status().lastError()).hasValueSatisfying(e -> assertThat(e).contains("exit 2"));
    assertThat(c.status().phase()).isEqualTo(Phase.HOLDING);
  }

  @Test
  void spotInterruption_runsTheCommandOnceAndEndsInterrupted_rebalanceIsFlagged() {
    onTermination = Optional.of("flush");
    queues.set(2, 777);
    Driver c = controller(Optional.empty());
    imds.rebalance =
        Optional.of(
            new dev.drainguard.imds.SpotNotice(
                dev.drainguard.imds.SpotNotice.Kind.REBALANCE, "rebalance", clock.instant()));
    run(c, Duration.ofSeconds(10));
    assertThat(c.status().rebalanceRecommendedAt()).contains(clock.instant().minusSeconds(10));
    assertThat(c.status().phase()).isEqualTo(Phase.IN_SERVICE);

    imds.spot =
        Optional.of(
            new dev.drainguard.imds.SpotNotice(
                dev.drainguard.imds.SpotNotice.Kind.INTERRUPTION,
                "terminate",
                clock.instant().plusSeconds(120)));
    run(c, Duration.ofSeconds(30));
    DrainStatus s = c.status();
    assertThat(s.phase()).isEqualTo(Phase.INTERRUPTED);
    assertThat(s.spotInterruption()).isPresent();
    assertThat(s.bytesAtEnd()).isEqualTo(777);
    assertThat(s.endReason()).hasValueSatisfying(r -> assertThat(r).contains("cannot be delayed"));
    assertThat(commands.envs)
        .extracting(e -> e.get("DRAINGUARD_EVENT"))
        .containsExactly("rebalance-recommendation", "spot-interruption");
    assertThat(api.calls).noneMatch(x -> x.startsWith("complete"));
  }

  @Test
  void aReleaseGivenWithEmptyQueues_isDroppedWhenDataComesBackBeforeItIsCarriedOut() {
    // guards against CONTINUE with data queued after a release that was only valid earlier
    queues.set(0, 0);
    api.membership = Optional.of(new GroupMembership("asg", "Terminating"));
    Driver c = controller(Optional.empty());
    api.script.add(ActionOutcome.NO_ACTIVE_ACTION);
    imds.state = TargetLifecycleState.TERMINATED;
    c.tick();
    assertThat(c.status().phase()).isEqualTo(Phase.AWAITING_ACTION);
    api.script.add(ActionOutcome.NO_ACTIVE_ACTION);
    assertThat(c.release(false, "queues look empty").accepted()).isTrue();

    // The action is not active yet: CONTINUE waits for the next try, after the back-off.
    queues.set(4, 50_000);
    c.onQueues(queues.snapshot());
    run(c, Duration.ofSeconds(30));
    assertThat(api.calls).doesNotContain("complete:CONTINUE");
    assertThat(c.status().releaseRequested()).isFalse();
    assertThat(c.status().phase()).isEqualTo(Phase.HOLDING);
  }

  @Test
  void whileAReleasedCompleteIsRetried_heartbeatsGoOn() {
    Driver c = holding(Optional.empty());
    api.completeFails = FakePorts.Api.throttled();
    assertThat(c.release(true, "retire").accepted()).isTrue();
    run(c, Duration.ofMinutes(15));
    // HeartbeatTimeout 10 min, one heartbeat every 200 s: never a gap the hook could time out in
    assertThat(api.count("heartbeat")).isGreaterThanOrEqualTo(5);
    assertThat(api.count("complete:CONTINUE")).isGreaterThan(100);
    assertThat(c.status().phase()).isEqualTo(Phase.HOLDING);
  }

  @Test
  void whileAbandonIsRetriedAtTheDeadline_heartbeatsGoOn() {
    Driver c = retaining();
    api.completeFails = FakePorts.Api.throttled();
    run(c, Duration.ofMinutes(15));
    assertThat(api.count("complete:ABANDON")).isGreaterThan(100);
    assertThat(api.count("heartbeat")).isGreaterThanOrEqualTo(5);
  }

  @Test
  void anAbandonWhoseAnswerWasLost_isConfirmedByTheGroupNotDeclaredLost() {
    Driver c = retaining();
    api.completeFails = FakePorts.Api.throttled(); // the first ABANDON's answer is lost
    run(c, Duration.ofMinutes(2));
    api.completeFails = null;
    api.script.add(ActionOutcome.NO_ACTIVE_ACTION); // it had reached AWS: the action is gone
    api.statesAfterAbandon.add("Terminating:Retained");
    run(c, Duration.ofSeconds(10));
    assertThat(c.status().phase()).isEqualTo(Phase.RETAINED);
    drain(c);
    run(c, Duration.ofSeconds(11));
    assertThat(api.calls).contains("terminate:i-1");
    assertThat(c.status().phase()).isEqualTo(Phase.COMPLETED);
  }

  @Test
  void protection_flappingWithGapsLongerThanTheQuietPeriod_changesAtMostOncePerInterval() {
    // guards against an interval check that never matters (gaps shorter than the quiet period)
    protection = new ProtectionSettings(true, 1000, Duration.ofSeconds(10), Duration.ofMinutes(5));
    Driver c = controller(Optional.empty());
    fill(c, 5, 5000);
    run(c, Duration.ofSeconds(11));
    assertThat(api.calls).containsOnlyOnce("protect:true");
    Instant changed = clock.instant();
    while (clock.instant().isBefore(changed.plus(Duration.ofMinutes(5)).minusSeconds(40))) {
      drain(c);
      run(c, Duration.ofSeconds(15)); // empty for longer than the 10 s quiet period
      fill(c, 5, 5000);
      run(c, Duration.ofSeconds(15));
    }
    assertThat(protectCalls()).hasSize(1);
    drain(c);
    run(c, Duration.ofMinutes(1));
    assertThat(protectCalls()).containsExactly("protect:true", "protect:false");
  }

  @Test
  void protectionFoundAtStart_isGivenBackOnceDrained() {
    // guards against a restarted agent leaving the instance protected for ever
    protection =
        new ProtectionSettings(true, 1000, Duration.ofSeconds(10), Duration.ofMinutes(5), true);
    Driver c = controller(Optional.empty());
    drain(c);
    run(c, Duration.ofSeconds(11));
    assertThat(api.calls).containsExactly("protect:false");
  }

  /**
   * Attack on 70fe945 (a rescan's answer numbered when asked): the confirming rescan reads empty,
   * data then arrives and goes again (both told by the watcher, numbered after it), and only then
   * does the rescan's answer reach the controller. The answer is older than the data seen after it:
   * it must not confirm the release, though the latest reading is empty again, not even once the
   * quiet period counted from the data has passed; a fresh rescan after it does.
   */
  @Test
  void aConfirmingRescanAnsweredAfterNewerDataCameAndWent_doesNotConfirmTheRelease() {
    Driver c = holding(Optional.empty());
    drain(c);
    c.holdConfirms(true);
    for (int i = 0; i < 120 && c.heldConfirms() == 0; i++) {
      run(c, Duration.ofSeconds(1));
    }
    assertThat(c.heldConfirms()).as("a confirmation was asked").isPositive();
    assertThat(api.calls).doesNotContain("complete:CONTINUE");

    clock.advance(Duration.ofSeconds(1));
    fill(c, 1, 10); // written after the rescan's walk
    clock.advance(Duration.ofSeconds(1));
    drain(c); // and gone again: the latest reading is empty
    c.deliverHeldConfirms();
    c.tick();
    assertThat(api.calls)
        .as("an empty rescan older than the data seen after it confirms nothing")
        .doesNotContain("complete:CONTINUE");
    assertThat(c.status().phase()).isIn(Phase.HOLDING, Phase.DRAINED);

    run(c, Duration.ofSeconds(30)); // past the quiet period, the fresh rescan's answer held back
    assertThat(api.calls)
        .as("quiet again, but the only confirming rescan is older than the data")
        .doesNotContain("complete:CONTINUE");
    assertThat(c.heldConfirms()).as("a fresh rescan was asked").isPositive();

    c.holdConfirms(false);
    c.deliverHeldConfirms();
    run(c, Duration.ofSeconds(1));
    assertThat(c.status().phase()).isEqualTo(Phase.COMPLETED);
    assertThat(api.calls).containsOnlyOnce("complete:CONTINUE");
  }
}
