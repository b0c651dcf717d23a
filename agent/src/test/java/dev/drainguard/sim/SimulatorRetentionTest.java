package dev.drainguard.sim;

import static dev.drainguard.sim.SimClient.xpath;
import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.testing.MutableClock;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Instance retention ({@code TerminateHookAbandon=retain}) and TerminateInstanceInAutoScalingGroup,
 * driven and observed over real HTTP.
 */
class SimulatorRetentionTest {

  private static final String GROUP = "workers";
  private static final String HOOK = "drain";
  private static final String ID = "i-0aaa";
  private static final Duration HEARTBEAT_TIMEOUT = Duration.ofMinutes(10);
  private static final String TERMINATE = "TerminateInstanceInAutoScalingGroup";
  private static final String ACTIVITY =
      "/TerminateInstanceInAutoScalingGroupResponse/TerminateInstanceInAutoScalingGroupResult"
          + "/Activity";
  private static final String INSTANCES =
      "/DescribeAutoScalingInstancesResponse/DescribeAutoScalingInstancesResult"
          + "/AutoScalingInstances";

  private final MutableClock clock = MutableClock.atNewYear();
  private Simulator sim;
  private SimClient client;

  @BeforeEach
  void start() {
    sim = Simulator.start(clock);
    sim.addGroup(GROUP);
    sim.addInstance(GROUP, ID, "us-east-1", true);
    sim.addInstance(GROUP, "i-0bbb", "us-east-1", true);
    sim.addTerminationHook(GROUP, HOOK, HEARTBEAT_TIMEOUT, "ABANDON");
    sim.setRetainOnTerminateHookAbandon(GROUP, true);
    client = new SimClient(sim);
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  private HttpResponse<String> terminateInGroup(String id, String decrement) throws IOException {
    return client.api(TERMINATE, "InstanceId", id, "ShouldDecrementDesiredCapacity", decrement);
  }

  private String describedState(String id) throws IOException {
    String xml = client.api("DescribeAutoScalingInstances", "InstanceIds.member.1", id).body();
    return xpath(xml, INSTANCES + "/member[1]/LifecycleState");
  }

  private void retain() throws IOException {
    sim.terminate(ID);
    assertThat(client.complete(GROUP, HOOK, ID, "ABANDON").statusCode()).isEqualTo(200);
    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminating:Retained");
  }

  @Test
  void complete_abandonInARetainingGroup_retainedAndDescribedSo() throws IOException {
    retain();

    assertThat(describedState(ID)).isEqualTo("Terminating:Retained");
    assertThat(sim.actionEnd(ID))
        .hasValueSatisfying(e -> assertThat(e.kind()).isEqualTo(ActionEnd.Kind.COMPLETED));
    assertThat(sim.terminatedAt(ID)).isEmpty();
    // The action is over: heartbeats are refused like after any other end.
    assertThat(client.heartbeat(GROUP, HOOK, ID).statusCode()).isEqualTo(400);
  }

  @Test
  void complete_abandonInARetainingGroup_imdsTargetStateStaysTerminated() throws IOException {
    retain();

    String token = client.token();
    HttpResponse<String> r =
        client.imdsGet("/latest/meta-data/autoscaling/target-lifecycle-state", token);

    assertThat(r.body()).isEqualTo("Terminated");
  }

  @Test
  void heartbeatTimeout_defaultResultAbandon_retained() {
    sim.terminate(ID);

    clock.advance(HEARTBEAT_TIMEOUT);

    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminating:Retained");
    assertThat(sim.actionEnd(ID))
        .contains(
            new ActionEnd(clock.instant(), ActionEnd.Kind.HEARTBEAT_TIMEOUT, SimInstance.ABANDON));
  }

  @Test
  void globalTimeout_defaultResultAbandon_retained() throws IOException {
    sim.terminate(ID);
    Duration global = HEARTBEAT_TIMEOUT.multipliedBy(100);
    for (Duration t = Duration.ZERO; t.compareTo(global) < 0; t = t.plusMinutes(5)) {
      assertThat(client.heartbeat(GROUP, HOOK, ID).statusCode()).isEqualTo(200);
      clock.advance(Duration.ofMinutes(5));
    }

    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminating:Retained");
    assertThat(sim.actionEnd(ID))
        .hasValueSatisfying(e -> assertThat(e.kind()).isEqualTo(ActionEnd.Kind.GLOBAL_TIMEOUT));
  }

  @Test
  void complete_continueInARetainingGroup_terminated() throws IOException {
    sim.terminate(ID);

    client.complete(GROUP, HOOK, ID, "CONTINUE");

    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminated");
    assertThat(sim.terminatedAt(ID)).contains(clock.instant());
  }

  @Test
  void complete_abandonInAGroupThatDoesNotRetain_terminated() throws IOException {
    sim.setRetainOnTerminateHookAbandon(GROUP, false);
    sim.terminate(ID);

    client.complete(GROUP, HOOK, ID, "ABANDON");

    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminated");
  }

  @Test
  void heartbeatTimeout_groupThatDoesNotRetain_terminated() {
    sim.setRetainOnTerminateHookAbandon(GROUP, false);
    sim.terminate(ID);

    clock.advance(HEARTBEAT_TIMEOUT);

    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminated");
  }

  // Guards against a timeout (heartbeat or global) being applied to a retained instance: its whole
  // point is to outlive the 48-hour global timeout.
  @Test
  void retained_daysPastTheGlobalTimeout_stillRetained() throws IOException {
    retain();

    clock.advance(Duration.ofDays(5));

    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminating:Retained");
    assertThat(describedState(ID)).isEqualTo("Terminating:Retained");
    assertThat(sim.terminatedAt(ID)).isEmpty();
  }

  @Test
  void terminateInstanceInGroup_retainedWithoutDecrement_terminatedAndCapacityKept()
      throws IOException {
    retain();
    clock.advance(Duration.ofDays(3));
    Instant now = clock.instant();

    HttpResponse<String> r = terminateInGroup(ID, "false");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminated");
    assertThat(sim.terminatedAt(ID)).contains(now);
    assertThat(sim.termination(ID)).contains(new Termination(now, false));
    assertThat(sim.desiredCapacity(GROUP)).isEqualTo(2);
    assertThat(describedState(ID)).as("terminated instances are not described").isEmpty();
    assertThat(sim.calls(TERMINATE)).singleElement().matches(ApiCall::succeeded);
  }

  @Test
  void terminateInstanceInGroup_activityShapedLikeAutoScaling() throws IOException {
    retain();

    String xml = terminateInGroup(ID, "false").body();

    assertThat(xml)
        .startsWith(
            "<TerminateInstanceInAutoScalingGroupResponse"
                + " xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">"
                + "<TerminateInstanceInAutoScalingGroupResult><Activity><ActivityId>");
    assertThat(xpath(xml, ACTIVITY + "/ActivityId")).isNotBlank();
    assertThat(xpath(xml, ACTIVITY + "/AutoScalingGroupName")).isEqualTo(GROUP);
    assertThat(xpath(xml, ACTIVITY + "/Description")).isEqualTo("Terminating EC2 instance: " + ID);
    assertThat(xpath(xml, ACTIVITY + "/Cause"))
        .isEqualTo(
            "At 2026-01-01T00:00:00Z instance i-0aaa was taken out of service in response to a"
                + " user request.");
    assertThat(xpath(xml, ACTIVITY + "/StartTime")).isEqualTo("2026-01-01T00:00:00Z");
    assertThat(xpath(xml, ACTIVITY + "/StatusCode")).isEqualTo("InProgress");
    assertThat(xpath(xml, ACTIVITY + "/Progress")).isEqualTo("0");
    assertThat(
            xpath(xml, "/TerminateInstanceInAutoScalingGroupResponse/ResponseMetadata/RequestId"))
        .isNotBlank();
  }

  @Test
  void terminateInstanceInGroup_inServiceWithDecrement_startsATerminationAndShrinks()
      throws IOException {
    HttpResponse<String> r = terminateInGroup(ID, "true");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(xpath(r.body(), ACTIVITY + "/Cause"))
        .endsWith("in response to a user request, shrinking the capacity from 2 to 1.");
    assertThat(sim.desiredCapacity(GROUP)).isEqualTo(1);
    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminating:Wait");
    assertThat(sim.termination(ID)).contains(new Termination(clock.instant(), true));
    assertThat(client.complete(GROUP, HOOK, ID, "CONTINUE").statusCode()).isEqualTo(200);
    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminated");
  }

  @Test
  void terminateInstanceInGroup_unknownInstance_validationError() throws IOException {
    HttpResponse<String> r = terminateInGroup("i-0nope", "false");

    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(xpath(r.body(), "/ErrorResponse/Error/Code")).isEqualTo("ValidationError");
    assertThat(xpath(r.body(), "/ErrorResponse/Error/Message"))
        .isEqualTo("Instance Id not found - No managed instance found for instance ID: i-0nope");
    assertThat(sim.calls(TERMINATE))
        .singleElement()
        .extracting(ApiCall::errorCode)
        .isEqualTo("ValidationError");
  }

  @Test
  void terminateInstanceInGroup_alreadyTerminated_validationError() throws IOException {
    retain();
    terminateInGroup(ID, "false");

    HttpResponse<String> r = terminateInGroup(ID, "false");

    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(xpath(r.body(), "/ErrorResponse/Error/Message")).contains("i-0aaa");
  }

  @Test
  void terminateInstanceInGroup_withoutShouldDecrement_validationErrorAndNothingChanges()
      throws IOException {
    retain();

    HttpResponse<String> r = client.api(TERMINATE, "InstanceId", ID);

    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(xpath(r.body(), "/ErrorResponse/Error/Code")).isEqualTo("ValidationError");
    assertThat(xpath(r.body(), "/ErrorResponse/Error/Message"))
        .contains("'shouldDecrementDesiredCapacity'");
    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminating:Retained");
    assertThat(sim.termination(ID)).isEmpty();
  }

  @Test
  void terminateInstanceInGroup_shouldDecrementNotABoolean_validationError() throws IOException {
    HttpResponse<String> r = terminateInGroup(ID, "maybe");

    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(xpath(r.body(), "/ErrorResponse/Error/Code")).isEqualTo("ValidationError");
    assertThat(sim.lifecycleState(ID)).isEqualTo("InService");
  }

  @Test
  void desiredCapacity_defaultsToTheInstancesAdded() {
    sim.addGroup("empty");

    assertThat(sim.desiredCapacity(GROUP)).isEqualTo(2);
    assertThat(sim.desiredCapacity("empty")).isZero();
  }
}
