package dev.drainguard.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The lifecycle state machine alone, without HTTP. */
class SimInstanceTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final Duration HT = Duration.ofMinutes(1);

  private final SimGroup group = new SimGroup("workers");
  private final SimInstance instance = new SimInstance("i-0aaa", group, "us-east-1", true);

  @Test
  void advance_oneLongJump_appliesEachTransitionAtItsOwnInstant() {
    group.setTerminationHook(SimHook.of("workers", "drain", HT, "CONTINUE"));
    instance.terminate(T0, Duration.ofSeconds(30));

    instance.advance(T0.plus(Duration.ofDays(3)));

    assertThat(instance.state()).isEqualTo(LifecycleState.TERMINATED);
    assertThat(instance.actionEnd())
        .contains(
            new ActionEnd(
                T0.plusSeconds(30).plus(HT), ActionEnd.Kind.HEARTBEAT_TIMEOUT, "CONTINUE"));
  }

  @Test
  void advance_zeroDeregistrationDelay_waitsAtOnce() {
    group.setTerminationHook(SimHook.of("workers", "drain", HT, "CONTINUE"));
    instance.terminate(T0, Duration.ZERO);

    instance.advance(T0);

    assertThat(instance.state()).isEqualTo(LifecycleState.TERMINATING_WAIT);
    assertThat(instance.actionToken()).isNotBlank();
    assertThat(instance.targetLifecycleState()).isEqualTo("Terminated");
  }

  @Test
  void heartbeat_nearGlobalDeadline_neverExtendsPastIt() {
    group.setTerminationHook(SimHook.of("workers", "drain", HT, "ABANDON"));
    instance.terminate(T0, Duration.ZERO);
    instance.advance(T0);
    Instant global = T0.plus(HT.multipliedBy(100));

    instance.advance(T0); // nothing due yet
    for (Instant t = T0; t.isBefore(global); t = t.plusSeconds(30)) {
      instance.advance(t);
      instance.heartbeat(t);
    }
    instance.advance(global);

    assertThat(instance.actionEnd())
        .contains(new ActionEnd(global, ActionEnd.Kind.GLOBAL_TIMEOUT, "ABANDON"));
  }

  @Test
  void heartbeat_afterTheActionEnded_isNoActiveAction() {
    group.setTerminationHook(SimHook.of("workers", "drain", HT, "CONTINUE"));
    instance.terminate(T0, Duration.ZERO);
    instance.advance(T0);
    instance.complete(T0.plusSeconds(5), "ABANDON");

    assertThatThrownBy(() -> instance.heartbeat(T0.plusSeconds(6)))
        .isInstanceOf(ApiError.class)
        .hasMessage("No active Lifecycle Action found with instance ID i-0aaa");
    assertThat(instance.actionEnd().orElseThrow().result()).isEqualTo("ABANDON");
  }

  @Test
  void terminate_instanceInNoGroup_throws() {
    SimInstance loner = new SimInstance("i-0bbb", null, "us-east-1", false);

    assertThatThrownBy(() -> loner.terminate(T0, Duration.ZERO))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void hook_globalTimeout_isHundredHeartbeatTimeoutsAtMost48Hours() {
    assertThat(SimHook.of("g", "h", Duration.ofSeconds(30), "ABANDON").globalTimeout())
        .isEqualTo(Duration.ofMinutes(50));
    assertThat(SimHook.of("g", "h", Duration.ofHours(2), "ABANDON").globalTimeout())
        .isEqualTo(Duration.ofHours(48));
  }

  @ParameterizedTest
  @CsvSource({
    "true, ABANDON, TERMINATING_RETAINED",
    "true, CONTINUE, TERMINATING_PROCEED",
    "false, ABANDON, TERMINATING_PROCEED",
    "false, CONTINUE, TERMINATING_PROCEED"
  })
  void stateAfterAction_retentionPolicyAndResult(
      boolean retain, String result, LifecycleState expected) {
    group.setRetainOnTerminateHookAbandon(retain);

    assertThat(instance.stateAfterAction(result)).isEqualTo(expected);
  }

  @Test
  void terminateInGroup_retained_terminatedAtThatInstant() {
    group.setTerminationHook(SimHook.of("workers", "drain", HT, "ABANDON"));
    group.setRetainOnTerminateHookAbandon(true);
    instance.terminate(T0, Duration.ZERO);
    Instant later = T0.plus(Duration.ofDays(10));
    instance.advance(later);
    assertThat(instance.state()).isEqualTo(LifecycleState.TERMINATING_RETAINED);

    instance.terminateInGroup(later, Duration.ZERO, false);

    assertThat(instance.state()).isEqualTo(LifecycleState.TERMINATED);
    assertThat(instance.terminatedAt()).contains(later);
    assertThat(instance.termination()).contains(new Termination(later, false));
  }
}
