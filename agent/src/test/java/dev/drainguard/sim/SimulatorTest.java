package dev.drainguard.sim;

import static dev.drainguard.sim.SimClient.xpath;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drainguard.testing.MutableClock;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The scale-in lifecycle, driven and observed over real HTTP. */
class SimulatorTest {

  private static final String GROUP = "workers";
  private static final String HOOK = "drain";
  private static final String ID = "i-0aaa";
  private static final Duration HEARTBEAT_TIMEOUT = Duration.ofMinutes(10);
  private static final Duration DEREGISTRATION = Duration.ofMinutes(5);

  private final MutableClock clock = MutableClock.atNewYear();
  private Simulator sim;
  private SimClient client;

  @BeforeEach
  void start() {
    sim = Simulator.start(clock);
    sim.addGroup(GROUP);
    sim.addInstance(GROUP, ID, "us-east-1", true);
    sim.addTerminationHook(GROUP, HOOK, HEARTBEAT_TIMEOUT, "ABANDON");
    sim.setDeregistrationDelay(DEREGISTRATION);
    client = new SimClient(sim);
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  @Test
  void endpoints_areOnLoopback() {
    assertThat(sim.imdsEndpoint().getHost()).isEqualTo("127.0.0.1");
    assertThat(sim.autoScalingEndpoint().getHost()).isEqualTo("127.0.0.1");
    assertThat(sim.imdsEndpoint().getPort()).isNotEqualTo(sim.autoScalingEndpoint().getPort());
  }

  @Test
  void terminate_deregistrationDelay_thenTerminatingWait() {
    assertThat(sim.lifecycleState(ID)).isEqualTo("InService");

    sim.terminate(ID);
    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminating");
    clock.advance(DEREGISTRATION.minusSeconds(1));
    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminating");
    clock.advance(Duration.ofSeconds(1));

    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminating:Wait");
    assertThat(sim.actionEnd(ID)).isEmpty();
  }

  @Test
  void terminate_groupWithoutHook_terminatesAfterDeregistration() {
    sim.addGroup("plain");
    sim.addInstance("plain", "i-0bbb", "us-east-1", true);

    sim.terminate("i-0bbb");
    clock.advance(DEREGISTRATION);

    assertThat(sim.lifecycleState("i-0bbb")).isEqualTo("Terminated");
    assertThat(sim.actionEnd("i-0bbb")).isEmpty();
  }

  @Test
  void heartbeat_whileDeregistering_answersNoActiveLifecycleAction() throws IOException {
    sim.terminate(ID);

    HttpResponse<String> r = client.heartbeat(GROUP, HOOK, ID);

    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(xpath(r.body(), "/ErrorResponse/Error/Type")).isEqualTo("Sender");
    assertThat(xpath(r.body(), "/ErrorResponse/Error/Code")).isEqualTo("ValidationError");
    assertThat(xpath(r.body(), "/ErrorResponse/Error/Message"))
        .isEqualTo("No active Lifecycle Action found with instance ID " + ID);
    assertThat(xpath(r.body(), "/ErrorResponse/RequestId")).isNotBlank();
  }

  @Test
  void heartbeat_duringWait_answers200AndExtendsDeadline() throws IOException {
    Instant waitStart = startWait();
    clock.advance(HEARTBEAT_TIMEOUT.minusMinutes(1));

    HttpResponse<String> r = client.heartbeat(GROUP, HOOK, ID);
    clock.advance(HEARTBEAT_TIMEOUT.minusMinutes(1));

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(
            xpath(r.body(), "/RecordLifecycleActionHeartbeatResponse/ResponseMetadata/RequestId"))
        .isNotBlank();
    // Past the first deadline (waitStart + HT), still waiting thanks to the heartbeat.
    assertThat(clock.instant()).isAfter(waitStart.plus(HEARTBEAT_TIMEOUT));
    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminating:Wait");
  }

  @Test
  void noHeartbeat_heartbeatTimeout_appliesDefaultResultAtTheDeadline() throws IOException {
    Instant waitStart = startWait();

    // Observed hours late: the action still ended at the deadline, not when it was looked at.
    clock.advance(Duration.ofHours(5));

    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminated");
    assertThat(sim.actionEnd(ID))
        .contains(
            new ActionEnd(
                waitStart.plus(HEARTBEAT_TIMEOUT), ActionEnd.Kind.HEARTBEAT_TIMEOUT, "ABANDON"));
    assertThat(client.heartbeat(GROUP, HOOK, ID).statusCode()).isEqualTo(400);
  }

  @Test
  void heartbeats_everyHalfTimeout_areCappedByTheGlobalTimeout() throws IOException {
    Instant waitStart = startWait();
    Instant globalDeadline = waitStart.plus(HEARTBEAT_TIMEOUT.multipliedBy(100));
    Duration half = HEARTBEAT_TIMEOUT.dividedBy(2);

    int accepted = 0;
    while (clock.instant().isBefore(globalDeadline.plus(HEARTBEAT_TIMEOUT))) {
      if (client.heartbeat(GROUP, HOOK, ID).statusCode() == 200) {
        accepted++;
      }
      clock.advance(half);
    }

    // Heartbeats at waitStart + 0, HT/2, ... up to (but not at) the global deadline.
    assertThat(accepted).isEqualTo(200);
    assertThat(sim.actionEnd(ID))
        .contains(new ActionEnd(globalDeadline, ActionEnd.Kind.GLOBAL_TIMEOUT, "ABANDON"));
    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminated");
  }

  @Test
  void complete_duringWait_terminatesAndLaterHeartbeatsFail() throws IOException {
    startWait();
    clock.advance(Duration.ofMinutes(3));
    Instant completedAt = clock.instant();

    HttpResponse<String> r = client.complete(GROUP, HOOK, ID, "CONTINUE");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("<CompleteLifecycleActionResult/>");
    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminated");
    assertThat(sim.actionEnd(ID))
        .contains(new ActionEnd(completedAt, ActionEnd.Kind.COMPLETED, "CONTINUE"));
    HttpResponse<String> late = client.heartbeat(GROUP, HOOK, ID);
    assertThat(late.statusCode()).isEqualTo(400);
    assertThat(xpath(late.body(), "/ErrorResponse/Error/Message"))
        .startsWith("No active Lifecycle Action found with instance ID");
    assertThat(client.complete(GROUP, HOOK, ID, "CONTINUE").statusCode()).isEqualTo(400);
  }

  @Test
  void complete_badResult_answersValidationErrorAndKeepsWaiting() throws IOException {
    startWait();

    HttpResponse<String> r = client.complete(GROUP, HOOK, ID, "MAYBE");

    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(xpath(r.body(), "/ErrorResponse/Error/Code")).isEqualTo("ValidationError");
    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminating:Wait");
  }

  @Test
  void heartbeat_unknownGroupOrHook_answersValidationErrorNamingIt() throws IOException {
    startWait();

    HttpResponse<String> group = client.heartbeat("nope", HOOK, ID);
    HttpResponse<String> hook = client.heartbeat(GROUP, "nope", ID);

    assertThat(group.statusCode()).isEqualTo(400);
    assertThat(xpath(group.body(), "/ErrorResponse/Error/Message")).contains("nope");
    assertThat(hook.statusCode()).isEqualTo(400);
    assertThat(xpath(hook.body(), "/ErrorResponse/Error/Message")).contains("nope");
    assertThat(xpath(hook.body(), "/ErrorResponse/Error/Message"))
        .doesNotContain("No active Lifecycle Action");
  }

  @Test
  void heartbeat_wrongToken_answersValidationError() throws IOException {
    startWait();

    HttpResponse<String> r =
        client.api(
            "RecordLifecycleActionHeartbeat",
            "AutoScalingGroupName",
            GROUP,
            "LifecycleHookName",
            HOOK,
            "LifecycleActionToken",
            "00000000-0000-0000-0000-000000000000");

    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(xpath(r.body(), "/ErrorResponse/Error/Message"))
        .startsWith("No active Lifecycle Action found with token");
  }

  @Test
  void terminate_notInService_throws() {
    sim.terminate(ID);

    assertThatThrownBy(() -> sim.terminate(ID)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> sim.lifecycleState("i-unknown"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void close_twice_isHarmless() {
    sim.close();

    sim.close();
  }

  /** Terminates the instance and lets deregistration pass; returns when the wait started. */
  private Instant startWait() {
    sim.terminate(ID);
    clock.advance(DEREGISTRATION);
    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminating:Wait");
    return clock.instant();
  }
}
