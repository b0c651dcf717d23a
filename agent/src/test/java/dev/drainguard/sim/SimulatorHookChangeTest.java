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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * PutLifecycleHook on a running group, over the Query API: a hook whose HeartbeatTimeout and
 * DefaultResult change after the agent read them, and a hook created after the group.
 */
class SimulatorHookChangeTest {

  private static final String GROUP = "workers";
  private static final String HOOK = "drain";
  private static final String ID = "i-0aaa";

  private final MutableClock clock = MutableClock.atNewYear();
  private Simulator sim;
  private SimClient client;

  @BeforeEach
  void start() {
    sim = Simulator.start(clock);
    sim.addGroup(GROUP);
    sim.addInstance(GROUP, ID, "us-east-1", true);
    client = new SimClient(sim);
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  private HttpResponse<String> putHook(String... nameValues) throws IOException {
    String[] all = new String[nameValues.length + 4];
    all[0] = "AutoScalingGroupName";
    all[1] = GROUP;
    all[2] = "LifecycleHookName";
    all[3] = HOOK;
    System.arraycopy(nameValues, 0, all, 4, nameValues.length);
    return client.api("PutLifecycleHook", all);
  }

  private HttpResponse<String> describeHook() throws IOException {
    return client.api(
        "DescribeLifecycleHooks",
        "AutoScalingGroupName",
        GROUP,
        "LifecycleHookNames.member.1",
        HOOK);
  }

  private static String member(HttpResponse<String> r, String field) {
    return xpath(
        r.body(),
        "/DescribeLifecycleHooksResponse/DescribeLifecycleHooksResult/LifecycleHooks/member/"
            + field);
  }

  // Issue 14, case 1: the hook is lowered from 1 h to 5 min with DefaultResult CONTINUE after the
  // agent read it; the next scale-in's action times out after 5 min, with CONTINUE.
  @Test
  void putLifecycleHook_lowersTheTimeout_nextActionTimesOutAtTheNewValue() throws IOException {
    sim.addTerminationHook(GROUP, HOOK, Duration.ofHours(1), "ABANDON");

    HttpResponse<String> r = putHook("HeartbeatTimeout", "300", "DefaultResult", "CONTINUE");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    HttpResponse<String> d = describeHook();
    assertThat(member(d, "HeartbeatTimeout")).isEqualTo("300");
    assertThat(member(d, "GlobalTimeout")).isEqualTo("30000");
    assertThat(member(d, "DefaultResult")).isEqualTo("CONTINUE");
    sim.terminate(ID);
    Instant active = clock.instant();
    clock.advance(Duration.ofMinutes(6));
    assertThat(sim.actionEnd(ID))
        .contains(
            new ActionEnd(
                active.plus(Duration.ofMinutes(5)), ActionEnd.Kind.HEARTBEAT_TIMEOUT, "CONTINUE"));
    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminated");
  }

  @Test
  void putLifecycleHook_withoutTimeoutOrResult_keepsTheHooksValues() throws IOException {
    sim.addTerminationHook(GROUP, HOOK, Duration.ofMinutes(10), "CONTINUE");

    assertThat(putHook("NotificationMetadata", "x").statusCode()).isEqualTo(200);

    HttpResponse<String> d = describeHook();
    assertThat(member(d, "HeartbeatTimeout")).isEqualTo("600");
    assertThat(member(d, "DefaultResult")).isEqualTo("CONTINUE");
  }

  // An action that is already active keeps the timeouts it started with: a change applies to
  // actions that start afterwards (the simulator's choice; AWS documents no other).
  @Test
  void putLifecycleHook_duringAnActiveAction_thatActionKeepsItsTimeout() throws IOException {
    sim.addTerminationHook(GROUP, HOOK, Duration.ofMinutes(10), "ABANDON");
    sim.terminate(ID);
    Instant active = clock.instant();

    assertThat(putHook("HeartbeatTimeout", "60").statusCode()).isEqualTo(200);
    clock.advance(Duration.ofMinutes(9));

    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminating:Wait");
    clock.advance(Duration.ofMinutes(1));
    assertThat(sim.actionEnd(ID))
        .contains(
            new ActionEnd(
                active.plus(Duration.ofMinutes(10)), ActionEnd.Kind.HEARTBEAT_TIMEOUT, "ABANDON"));
  }

  // Issue 14, case 5: a hook created after the group (a separate Terraform or CloudFormation
  // resource): before it, a scale-in is not held; after it, it is.
  @Test
  void putLifecycleHook_createdAfterTheGroup_holdsLaterScaleIns() throws IOException {
    sim.addInstance(GROUP, "i-0bbb", "us-east-1", true);
    sim.terminate("i-0bbb");
    assertThat(sim.lifecycleState("i-0bbb")).as("no hook yet").isEqualTo("Terminated");

    HttpResponse<String> r =
        putHook(
            "LifecycleTransition",
            "autoscaling:EC2_INSTANCE_TERMINATING",
            "HeartbeatTimeout",
            "120",
            "DefaultResult",
            "ABANDON");
    sim.terminate(ID);

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(sim.lifecycleState(ID)).isEqualTo("Terminating:Wait");
    assertThat(client.heartbeat(GROUP, HOOK, ID).statusCode()).isEqualTo(200);
    assertThat(member(describeHook(), "GlobalTimeout")).isEqualTo("12000");
  }

  @Test
  void putLifecycleHook_createWithoutTimeout_defaultsToAnHourAndAbandon() throws IOException {
    assertThat(putHook("LifecycleTransition", "autoscaling:EC2_INSTANCE_TERMINATING").statusCode())
        .isEqualTo(200);

    HttpResponse<String> d = describeHook();
    assertThat(member(d, "HeartbeatTimeout")).isEqualTo("3600");
    assertThat(member(d, "DefaultResult")).isEqualTo("ABANDON");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "new hook without a transition | , , lifecycleTransition",
        "timeout under 30 s | HeartbeatTimeout, 29, between 30 and 7200",
        "timeout over 7200 s | HeartbeatTimeout, 7201, between 30 and 7200",
        "bad default result | DefaultResult, MAYBE, DefaultResult",
        "launching hook | LifecycleTransition, autoscaling:EC2_INSTANCE_LAUNCHING, only",
      })
  void putLifecycleHook_invalid_validationErrorAndNothingChanged(String why, String spec)
      throws IOException {
    String[] p = spec.split(",", -1);
    String name = p[0].strip();
    String value = p[1].strip();
    String message = p[2].strip();
    boolean creating = !name.equals("LifecycleTransition") && !name.isEmpty();
    HttpResponse<String> r =
        name.isEmpty()
            ? putHook()
            : creating
                ? putHook(
                    "LifecycleTransition", "autoscaling:EC2_INSTANCE_TERMINATING", name, value)
                : putHook(name, value);

    assertThat(r.statusCode()).as(why).isEqualTo(400);
    assertThat(xpath(r.body(), "/ErrorResponse/Error/Code")).isEqualTo("ValidationError");
    assertThat(xpath(r.body(), "/ErrorResponse/Error/Message")).contains(message);
    sim.terminate(ID);
    assertThat(sim.lifecycleState(ID)).as("still no hook").isEqualTo("Terminated");
  }

  @Test
  void putLifecycleHook_secondHookOrUnknownGroup_validationError() throws IOException {
    sim.addTerminationHook(GROUP, HOOK, Duration.ofMinutes(10), "ABANDON");

    HttpResponse<String> second =
        client.api(
            "PutLifecycleHook",
            "AutoScalingGroupName",
            GROUP,
            "LifecycleHookName",
            "other",
            "LifecycleTransition",
            "autoscaling:EC2_INSTANCE_TERMINATING");
    HttpResponse<String> unknown =
        client.api(
            "PutLifecycleHook",
            "AutoScalingGroupName",
            "nope",
            "LifecycleHookName",
            HOOK,
            "LifecycleTransition",
            "autoscaling:EC2_INSTANCE_TERMINATING");

    assertThat(second.statusCode()).isEqualTo(400);
    assertThat(xpath(second.body(), "/ErrorResponse/Error/Message")).contains("one termination");
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(xpath(unknown.body(), "/ErrorResponse/Error/Message"))
        .isEqualTo("Group nope not found");
  }
}
