package dev.drainguard.sim;

import static dev.drainguard.sim.SimClient.xpath;
import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.testing.MutableClock;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Query API's wire shapes, faults and call log. */
class AutoScalingHandlerTest {

  private static final String HOOKS =
      "/DescribeLifecycleHooksResponse/DescribeLifecycleHooksResult";
  private static final String INSTANCES =
      "/DescribeAutoScalingInstancesResponse/DescribeAutoScalingInstancesResult";

  private final MutableClock clock = MutableClock.atNewYear();
  private Simulator sim;
  private SimClient client;

  @BeforeEach
  void start() {
    sim = Simulator.start(clock);
    sim.addGroup("workers");
    sim.addInstance("workers", "i-0aaa", "eu-west-1", true);
    sim.addInstance("workers", "i-0bbb", "eu-west-1", true);
    sim.addTerminationHook("workers", "drain", Duration.ofMinutes(15), "CONTINUE");
    client = new SimClient(sim);
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  @Test
  void describeLifecycleHooks_group_listsTheHookFields() throws IOException {
    HttpResponse<String> r =
        client.api("DescribeLifecycleHooks", "AutoScalingGroupName", "workers");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("text/xml");
    String xml = r.body();
    assertThat(xml)
        .startsWith(
            "<DescribeLifecycleHooksResponse"
                + " xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">");
    String hook = HOOKS + "/LifecycleHooks/member[1]";
    assertThat(xpath(xml, hook + "/LifecycleHookName")).isEqualTo("drain");
    assertThat(xpath(xml, hook + "/AutoScalingGroupName")).isEqualTo("workers");
    assertThat(xpath(xml, hook + "/LifecycleTransition"))
        .isEqualTo("autoscaling:EC2_INSTANCE_TERMINATING");
    assertThat(xpath(xml, hook + "/HeartbeatTimeout")).isEqualTo("900");
    assertThat(xpath(xml, hook + "/GlobalTimeout")).isEqualTo("90000");
    assertThat(xpath(xml, hook + "/DefaultResult")).isEqualTo("CONTINUE");
    assertThat(xpath(xml, "count(" + HOOKS + "/LifecycleHooks/member)")).isEqualTo("1");
    assertThat(xpath(xml, "/DescribeLifecycleHooksResponse/ResponseMetadata/RequestId"))
        .isNotBlank();
  }

  @Test
  void describeLifecycleHooks_longHeartbeatTimeout_capsGlobalTimeoutAt48Hours() throws IOException {
    sim.addGroup("slow");
    sim.addTerminationHook("slow", "drain", Duration.ofHours(2), "ABANDON");

    String xml = client.api("DescribeLifecycleHooks", "AutoScalingGroupName", "slow").body();

    assertThat(xpath(xml, HOOKS + "/LifecycleHooks/member/GlobalTimeout")).isEqualTo("172800");
  }

  @Test
  void describeLifecycleHooks_namesMatchingNothing_answersEmptyList() throws IOException {
    HttpResponse<String> r =
        client.api(
            "DescribeLifecycleHooks",
            "AutoScalingGroupName",
            "workers",
            "LifecycleHookNames.member.1",
            "other");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("<DescribeLifecycleHooksResult><LifecycleHooks/>");
  }

  @Test
  void describeLifecycleHooks_unknownGroup_answersValidationError() throws IOException {
    HttpResponse<String> r = client.api("DescribeLifecycleHooks", "AutoScalingGroupName", "nope");

    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(xpath(r.body(), "/ErrorResponse/Error/Code")).isEqualTo("ValidationError");
  }

  @Test
  void describeAutoScalingInstances_instanceIds_listsOnlyKnownRequestedInstances()
      throws IOException {
    HttpResponse<String> r =
        client.api(
            "DescribeAutoScalingInstances",
            "InstanceIds.member.1",
            "i-0aaa",
            "InstanceIds.member.2",
            "i-unknown");

    String xml = r.body();
    String member = INSTANCES + "/AutoScalingInstances/member[1]";
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(xpath(xml, "count(" + INSTANCES + "/AutoScalingInstances/member)")).isEqualTo("1");
    assertThat(xpath(xml, member + "/InstanceId")).isEqualTo("i-0aaa");
    assertThat(xpath(xml, member + "/AutoScalingGroupName")).isEqualTo("workers");
    assertThat(xpath(xml, member + "/AvailabilityZone")).isEqualTo("eu-west-1a");
    assertThat(xpath(xml, member + "/LifecycleState")).isEqualTo("InService");
    assertThat(xpath(xml, member + "/HealthStatus")).isEqualTo("HEALTHY");
    assertThat(xpath(xml, member + "/ProtectedFromScaleIn")).isEqualTo("false");
    assertThat(xpath(xml, member + "/LaunchTemplate/LaunchTemplateId")).startsWith("lt-");
  }

  @Test
  void describeAutoScalingInstances_noIds_listsEveryInstanceButTerminatedOnes() throws IOException {
    sim.terminate("i-0bbb");
    sim.terminate("i-0aaa");
    client.complete("workers", "drain", "i-0bbb", "CONTINUE");

    String xml = client.api("DescribeAutoScalingInstances").body();

    assertThat(xpath(xml, "count(" + INSTANCES + "/AutoScalingInstances/member)")).isEqualTo("1");
    assertThat(xpath(xml, INSTANCES + "/AutoScalingInstances/member/LifecycleState"))
        .isEqualTo("Terminating:Wait");
  }

  @Test
  void unknownAction_answersInvalidAction() throws IOException {
    HttpResponse<String> r = client.api("DescribeEverything");

    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(xpath(r.body(), "/ErrorResponse/Error/Code")).isEqualTo("InvalidAction");
    assertThat(sim.calls()).last().extracting(ApiCall::errorCode).isEqualTo("InvalidAction");
  }

  @Test
  void missingAction_answers400() throws IOException {
    assertThat(client.api(null).statusCode()).isEqualTo(400);
  }

  @Test
  void failApi_throttling_failsTheNextCallsOfThatActionOnly() throws IOException {
    sim.failApi("DescribeLifecycleHooks", 2, 400, "Throttling", "Rate exceeded");

    HttpResponse<String> first =
        client.api("DescribeLifecycleHooks", "AutoScalingGroupName", "workers");
    HttpResponse<String> other = client.api("DescribeAutoScalingInstances");
    HttpResponse<String> second =
        client.api("DescribeLifecycleHooks", "AutoScalingGroupName", "workers");
    HttpResponse<String> third =
        client.api("DescribeLifecycleHooks", "AutoScalingGroupName", "workers");

    assertThat(first.statusCode()).isEqualTo(400);
    assertThat(xpath(first.body(), "/ErrorResponse/Error/Type")).isEqualTo("Sender");
    assertThat(xpath(first.body(), "/ErrorResponse/Error/Code")).isEqualTo("Throttling");
    assertThat(xpath(first.body(), "/ErrorResponse/Error/Message")).isEqualTo("Rate exceeded");
    assertThat(other.statusCode()).isEqualTo(200);
    assertThat(second.statusCode()).isEqualTo(400);
    assertThat(third.statusCode()).isEqualTo(200);
  }

  @Test
  void failApi_serverError_answersReceiverErrorAndLeavesTheActionAlone() throws IOException {
    sim.terminate("i-0aaa");
    sim.failApi("CompleteLifecycleAction", 1, 503, "ServiceUnavailable", "try later");

    HttpResponse<String> r = client.complete("workers", "drain", "i-0aaa", "CONTINUE");

    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(xpath(r.body(), "/ErrorResponse/Error/Type")).isEqualTo("Receiver");
    assertThat(sim.lifecycleState("i-0aaa")).isEqualTo("Terminating:Wait");
  }

  @Test
  void calls_recordEveryRequestWithParamsStatusAndErrorCode() throws IOException {
    client.api("DescribeLifecycleHooks", "AutoScalingGroupName", "workers");
    clock.advance(Duration.ofSeconds(7));
    client.heartbeat("workers", "drain", "i-0aaa");

    assertThat(sim.calls()).hasSize(2);
    ApiCall heartbeat = sim.calls("RecordLifecycleActionHeartbeat").get(0);
    assertThat(heartbeat.at()).isEqualTo(clock.instant());
    assertThat(heartbeat.params())
        .containsEntry("InstanceId", "i-0aaa")
        .containsEntry("LifecycleHookName", "drain")
        .containsEntry("Version", "2011-01-01");
    assertThat(heartbeat.httpStatus()).isEqualTo(400);
    assertThat(heartbeat.errorCode()).isEqualTo("ValidationError");
    ApiCall describe = sim.calls("DescribeLifecycleHooks").get(0);
    assertThat(describe.succeeded()).isTrue();
    assertThat(describe.errorCode()).isNull();
  }

  // Guards against races in the model or the call log when the SDK sends requests in parallel.
  @Test
  void heartbeats_fromManyThreadsAtOnce_areAllAnsweredAndRecorded() throws Exception {
    sim.terminate("i-0aaa");
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Integer>> statuses = new ArrayList<>();
      for (int i = 0; i < 80; i++) {
        statuses.add(
            pool.submit(() -> client.heartbeat("workers", "drain", "i-0aaa").statusCode()));
      }
      for (Future<Integer> status : statuses) {
        assertThat(status.get()).isEqualTo(200);
      }
    } finally {
      pool.shutdownNow();
    }

    assertThat(sim.calls("RecordLifecycleActionHeartbeat")).hasSize(80);
  }
}
