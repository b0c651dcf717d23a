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

/**
 * What AWS does around the transition to an active action that issue 14 depends on: an hour of
 * deregistration, a brief "No active Lifecycle Action" after the action became active, and a
 * DescribeAutoScalingInstances that is throttled at the moment it is asked.
 */
class SimulatorTransitionFaultsTest {

  private static final String GROUP = "workers";
  private static final String HOOK = "drain";
  private static final String ID = "i-0aaa";
  private static final Duration HEARTBEAT_TIMEOUT = Duration.ofMinutes(5);
  private static final String DESCRIBE = "DescribeAutoScalingInstances";

  private final MutableClock clock = MutableClock.atNewYear();
  private Simulator sim;
  private SimClient client;

  @BeforeEach
  void start() {
    sim = Simulator.start(clock);
    sim.addGroup(GROUP);
    sim.addInstance(GROUP, ID, "us-east-1", true);
    sim.addTerminationHook(GROUP, HOOK, HEARTBEAT_TIMEOUT, "ABANDON");
    client = new SimClient(sim);
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  private String describedState() throws IOException {
    HttpResponse<String> r = client.api(DESCRIBE, "InstanceIds.member.1", ID);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return xpath(
        r.body(),
        "/DescribeAutoScalingInstancesResponse/DescribeAutoScalingInstancesResult"
            + "/AutoScalingInstances/member/LifecycleState");
  }

  private static String errorMessage(HttpResponse<String> r) {
    return xpath(r.body(), "/ErrorResponse/Error/Message");
  }

  @Test
  void deregistrationOfAnHour_terminatingThroughout_thenTheActionIsActive() throws IOException {
    sim.setDeregistrationDelay(Duration.ofSeconds(3600));
    sim.terminate(ID);

    clock.advance(Duration.ofSeconds(3599));
    assertThat(describedState()).isEqualTo("Terminating");
    assertThat(client.heartbeat(GROUP, HOOK, ID).statusCode()).isEqualTo(400);

    clock.advance(Duration.ofSeconds(1));
    assertThat(describedState()).isEqualTo("Terminating:Wait");
    assertThat(client.heartbeat(GROUP, HOOK, ID).statusCode()).isEqualTo(200);
  }

  @Test
  void deregistrationBeyondAnHour_refused() {
    assertThatThrownBy(() -> sim.setDeregistrationDelay(Duration.ofSeconds(3601)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("3600");
    assertThatThrownBy(() -> sim.setDeregistrationDelay(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  // Issue 14, case 3: one "No active" answer proves nothing. The blip refuses heartbeats while the
  // action is active and describe says Terminating:Wait; the heartbeat timeout runs all along.
  @Test
  void blipRightAfterActivation_noActiveWhileDescribeSaysWait_thenAccepted() throws IOException {
    sim.setActionBlip(Duration.ZERO, Duration.ofSeconds(3));
    sim.terminate(ID);

    HttpResponse<String> during = client.heartbeat(GROUP, HOOK, ID);
    assertThat(during.statusCode()).isEqualTo(400);
    assertThat(errorMessage(during)).startsWith("No active Lifecycle Action found");
    assertThat(describedState()).isEqualTo("Terminating:Wait");

    clock.advance(Duration.ofSeconds(3));
    assertThat(client.heartbeat(GROUP, HOOK, ID).statusCode()).isEqualTo(200);
  }

  @Test
  void blipLaterInTheAction_onlyInsideItsWindow() throws IOException {
    sim.setActionBlip(Duration.ofSeconds(60), Duration.ofSeconds(5));
    sim.terminate(ID);

    assertThat(client.heartbeat(GROUP, HOOK, ID).statusCode()).isEqualTo(200);
    clock.advance(Duration.ofSeconds(60));
    assertThat(client.heartbeat(GROUP, HOOK, ID).statusCode()).isEqualTo(400);
    assertThat(client.complete(GROUP, HOOK, ID, "CONTINUE").statusCode()).isEqualTo(400);
    clock.advance(Duration.ofSeconds(4));
    assertThat(client.heartbeat(GROUP, HOOK, ID).statusCode()).isEqualTo(400);
    clock.advance(Duration.ofSeconds(1));
    assertThat(client.heartbeat(GROUP, HOOK, ID).statusCode()).isEqualTo(200);
    assertThat(sim.actionEnd(ID)).isEmpty();
  }

  // The blip does not stop the clock: an agent that gave up after one "No active" would let the
  // action time out with its default result.
  @Test
  void blip_heartbeatTimeoutRunsThroughIt() {
    sim.setActionBlip(Duration.ZERO, Duration.ofSeconds(10));
    sim.terminate(ID);
    Instant active = clock.instant();

    clock.advance(HEARTBEAT_TIMEOUT);

    assertThat(sim.actionEnd(ID))
        .contains(
            new ActionEnd(
                active.plus(HEARTBEAT_TIMEOUT), ActionEnd.Kind.HEARTBEAT_TIMEOUT, "ABANDON"));
  }

  @Test
  void blipOff_byZeroLength() throws IOException {
    sim.setActionBlip(Duration.ZERO, Duration.ofSeconds(10));
    sim.setActionBlip(Duration.ZERO, Duration.ZERO);
    sim.terminate(ID);

    assertThat(client.heartbeat(GROUP, HOOK, ID).statusCode()).isEqualTo(200);
  }

  // Issue 14, case 4: the describe that should explain "No active" is itself throttled.
  @Test
  void throttleApi_describeThrottledOnlyInsideTheWindow_otherActionsUnaffected()
      throws IOException {
    Instant from = clock.instant().plusSeconds(10);
    sim.throttleApi(DESCRIBE, from, from.plusSeconds(20));
    sim.terminate(ID);

    assertThat(describedState()).isEqualTo("Terminating:Wait");
    clock.advance(Duration.ofSeconds(10));
    HttpResponse<String> throttled = client.api(DESCRIBE, "InstanceIds.member.1", ID);
    assertThat(throttled.statusCode()).isEqualTo(400);
    assertThat(xpath(throttled.body(), "/ErrorResponse/Error/Code")).isEqualTo("Throttling");
    assertThat(errorMessage(throttled)).isEqualTo("Rate exceeded");
    assertThat(client.heartbeat(GROUP, HOOK, ID).statusCode()).isEqualTo(200);
    clock.advance(Duration.ofSeconds(19));
    assertThat(client.api(DESCRIBE, "InstanceIds.member.1", ID).statusCode()).isEqualTo(400);
    clock.advance(Duration.ofSeconds(1));
    assertThat(describedState()).isEqualTo("Terminating:Wait");
    assertThat(sim.calls(DESCRIBE))
        .extracting(ApiCall::errorCode)
        .containsExactly(null, "Throttling", "Throttling", null);
  }

  @Test
  void throttleApi_emptyWindow_refused() {
    Instant t = clock.instant();
    assertThatThrownBy(() -> sim.throttleApi(DESCRIBE, t, t))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
