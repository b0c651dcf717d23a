package dev.drainguard.sim;

import static dev.drainguard.sim.SimClient.xpath;
import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.testing.MutableClock;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Scale-in protection (SetInstanceProtection) and Auto Scaling's choice of instance to scale in.
 */
class SimulatorProtectionTest {

  private static final String GROUP = "workers";
  private static final String SET = "SetInstanceProtection";
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
    sim.addInstance(GROUP, "i-0aaa", "us-east-1", true);
    sim.addInstance(GROUP, "i-0bbb", "us-east-1", true);
    sim.addInstance(GROUP, "i-0ccc", "us-east-1", true);
    client = new SimClient(sim);
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  private HttpResponse<String> protect(String group, String id, String value) throws IOException {
    return client.api(
        SET,
        "AutoScalingGroupName",
        group,
        "InstanceIds.member.1",
        id,
        "ProtectedFromScaleIn",
        value);
  }

  private String describedProtection(String id) throws IOException {
    String xml = client.api("DescribeAutoScalingInstances", "InstanceIds.member.1", id).body();
    return xpath(xml, INSTANCES + "/member[1]/ProtectedFromScaleIn");
  }

  @Test
  void setInstanceProtection_trueThenFalse_reflectedInDescribeAndRecorded() throws IOException {
    HttpResponse<String> r = protect(GROUP, "i-0aaa", "true");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body())
        .startsWith(
            "<SetInstanceProtectionResponse"
                + " xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">"
                + "<SetInstanceProtectionResult/><ResponseMetadata>");
    assertThat(sim.isProtected("i-0aaa")).isTrue();
    assertThat(describedProtection("i-0aaa")).isEqualTo("true");
    assertThat(describedProtection("i-0bbb")).isEqualTo("false");

    protect(GROUP, "i-0aaa", "false");

    assertThat(sim.isProtected("i-0aaa")).isFalse();
    assertThat(describedProtection("i-0aaa")).isEqualTo("false");
    assertThat(sim.calls(SET))
        .extracting(c -> c.params().get("ProtectedFromScaleIn"))
        .containsExactly("true", "false");
    assertThat(sim.calls(SET).get(0).params())
        .containsAllEntriesOf(
            Map.of("AutoScalingGroupName", GROUP, "InstanceIds.member.1", "i-0aaa"));
  }

  @Test
  void setInstanceProtection_severalInstances_allChanged() throws IOException {
    client.api(
        SET,
        "AutoScalingGroupName",
        GROUP,
        "InstanceIds.member.1",
        "i-0aaa",
        "InstanceIds.member.2",
        "i-0ccc",
        "ProtectedFromScaleIn",
        "true");

    assertThat(sim.isProtected("i-0aaa")).isTrue();
    assertThat(sim.isProtected("i-0bbb")).isFalse();
    assertThat(sim.isProtected("i-0ccc")).isTrue();
  }

  @Test
  void setInstanceProtection_unknownGroup_validationError() throws IOException {
    HttpResponse<String> r = protect("nope", "i-0aaa", "true");

    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(xpath(r.body(), "/ErrorResponse/Error/Code")).isEqualTo("ValidationError");
    assertThat(sim.isProtected("i-0aaa")).isFalse();
    assertThat(sim.calls(SET)).singleElement().matches(c -> c.httpStatus() == 400);
  }

  // All or nothing: one unknown id must not leave the known ones changed.
  @Test
  void setInstanceProtection_oneUnknownInstance_validationErrorAndNoneChanged() throws IOException {
    HttpResponse<String> r =
        client.api(
            SET,
            "AutoScalingGroupName",
            GROUP,
            "InstanceIds.member.1",
            "i-0aaa",
            "InstanceIds.member.2",
            "i-0nope",
            "ProtectedFromScaleIn",
            "true");

    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(xpath(r.body(), "/ErrorResponse/Error/Message"))
        .isEqualTo("The instance i-0nope is not part of Auto Scaling group workers.");
    assertThat(sim.isProtected("i-0aaa")).isFalse();
  }

  @Test
  void setInstanceProtection_withoutProtectedFromScaleIn_validationError() throws IOException {
    HttpResponse<String> r =
        client.api(SET, "AutoScalingGroupName", GROUP, "InstanceIds.member.1", "i-0aaa");

    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(xpath(r.body(), "/ErrorResponse/Error/Code")).isEqualTo("ValidationError");
  }

  @Test
  void scaleIn_firstInstanceProtected_choosesTheNextUnprotectedOne() throws IOException {
    protect(GROUP, "i-0aaa", "true");

    assertThat(sim.scaleIn(GROUP)).contains("i-0bbb");

    assertThat(sim.lifecycleState("i-0aaa")).isEqualTo("InService");
    assertThat(sim.lifecycleState("i-0bbb")).isEqualTo("Terminated");
    assertThat(sim.desiredCapacity(GROUP)).isEqualTo(2);
    assertThat(sim.scaleIn(GROUP)).contains("i-0ccc");
    assertThat(sim.desiredCapacity(GROUP)).isEqualTo(1);
  }

  @Test
  void scaleIn_everyInstanceProtected_emptyAndNothingChanges() throws IOException {
    for (String id : new String[] {"i-0aaa", "i-0bbb", "i-0ccc"}) {
      protect(GROUP, id, "true");
    }

    assertThat(sim.scaleIn(GROUP)).isEmpty();

    assertThat(sim.desiredCapacity(GROUP)).isEqualTo(3);
    assertThat(sim.lifecycleState("i-0aaa")).isEqualTo("InService");
    assertThat(sim.lifecycleState("i-0bbb")).isEqualTo("InService");
    assertThat(sim.lifecycleState("i-0ccc")).isEqualTo("InService");
  }

  // Protection only stops Auto Scaling from choosing the instance for scale-in; other terminations
  // (health-check replacement, instance refresh) still happen, which is why the hook is needed.
  @Test
  void terminate_protectedInstance_stillTerminates() throws IOException {
    protect(GROUP, "i-0aaa", "true");

    sim.terminate("i-0aaa");

    assertThat(sim.lifecycleState("i-0aaa")).isEqualTo("Terminated");
  }
}
