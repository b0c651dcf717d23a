package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drainguard.config.Setting;
import dev.drainguard.drain.DrainStatus;
import dev.drainguard.drain.Phase;
import dev.drainguard.sim.Termination;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What goes beyond delaying a termination, through the real agent and SDK against the simulator:
 * retention past the global timeout, scale-in protection, spot notices.
 */
class BeyondDelayTest {

  /** HeartbeatTimeout 60 s: the global timeout is 100 minutes. */
  static final Duration HT = Duration.ofSeconds(60);

  /** Half the 20 s heartbeat interval: long holds are stepped through faster. */
  static final Duration LONG_STEP = Duration.ofSeconds(10);

  @TempDir Path root;
  @TempDir Path work;
  ScaleInHarness h;

  @AfterEach
  void tearDown() {
    if (h != null) {
      h.close();
    }
  }

  Path queued(String name, int bytes) throws IOException {
    Path dir = root.resolve("0/out-s3");
    Files.createDirectories(dir);
    return Files.write(dir.resolve(name), new byte[bytes]);
  }

  @Test
  void aDestinationDownPastTheGlobalTimeout_isRetained_thenTerminatedOnceDrained()
      throws IOException {
    Path file = queued("00001.pq", 65536);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.sim.setRetainOnTerminateHookAbandon(ScaleInHarness.GROUP, true);
    h.set(Setting.DEADLINE_POLICY, "retain");
    h.startAgent();
    int desired = h.sim.desiredCapacity(ScaleInHarness.GROUP);
    h.scaleInUntilHolding();

    // 100 minutes of global timeout minus the 5 minute margin, then a day in retention.
    h.advance(Duration.ofMinutes(96), LONG_STEP);
    assertThat(h.calls("CompleteLifecycleAction"))
        .singleElement()
        .satisfies(c -> assertThat(c.params()).containsEntry("LifecycleActionResult", "ABANDON"));
    h.advance(Duration.ofSeconds(10));
    assertThat(h.sim.lifecycleState(ScaleInHarness.INSTANCE)).isEqualTo("Terminating:Retained");
    assertThat(h.status().phase()).isEqualTo(Phase.RETAINED);
    // Still draining: scripts waiting for "no longer holding" must keep waiting.
    assertThat(MainTest.execute("status", "--control-socket", h.socket().toString()).code())
        .isEqualTo(StatusCommand.HOLDING);
    h.clock.advance(Duration.ofDays(1));
    h.advance(Duration.ofSeconds(5));
    assertThat(h.sim.lifecycleState(ScaleInHarness.INSTANCE)).isEqualTo("Terminating:Retained");

    Instant drainedAt = h.clock.instant();
    Files.delete(file);
    h.awaitStatus(s -> s.queues().empty());
    h.advance(Duration.ofSeconds(11));
    DrainStatus done = h.awaitStatus(s -> s.phase() == Phase.COMPLETED);

    Termination t = h.sim.termination(ScaleInHarness.INSTANCE).orElseThrow();
    assertThat(Duration.between(drainedAt, t.at()))
        .isGreaterThanOrEqualTo(Duration.ofSeconds(10))
        .isLessThanOrEqualTo(Duration.ofSeconds(11));
    assertThat(t.shouldDecrementDesiredCapacity()).isFalse();
    assertThat(h.sim.lifecycleState(ScaleInHarness.INSTANCE)).isEqualTo("Terminated");
    assertThat(done.bytesAtEnd()).isZero();
    // TerminateInstanceInAutoScalingGroup was asked to keep the desired capacity as it was.
    assertThat(h.sim.desiredCapacity(ScaleInHarness.GROUP)).isEqualTo(desired);
  }

  @Test
  void theSameWithoutRetentionConfigured_endsWithAnErrorNamingTheBytesAndThePolicy()
      throws IOException {
    queued("00001.pq", 65536);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.set(Setting.DEADLINE_POLICY, "retain");
    h.startAgent();
    h.scaleInUntilHolding();

    h.advance(Duration.ofMinutes(96), LONG_STEP);
    DrainStatus lost = h.awaitStatus(s -> s.phase() == Phase.LOST);

    assertThat(lost.bytesAtEnd()).isEqualTo(65536);
    assertThat(lost.endReason())
        .hasValueSatisfying(
            r ->
                assertThat(r)
                    .contains("policy retain")
                    .contains("does not retain instances")
                    .contains("TerminateHookAbandon=retain"));
    assertThat(h.sim.lifecycleState(ScaleInHarness.INSTANCE)).isEqualTo("Terminated");
  }

  @Test
  void protectWhileBusy_protectsOnceAndUnprotectsAfterTheDrain_andScaleInSkipsIt()
      throws IOException {
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.sim.addInstance(ScaleInHarness.GROUP, "i-0idle", "eu-west-1", true);
    h.set(Setting.PROTECT_WHILE_BUSY, "true")
        .set(Setting.PROTECT_AFTER, "30s")
        .set(Setting.PROTECT_INTERVAL, "2m");
    h.startAgent();
    Path file = queued("00001.pq", 4096);
    h.awaitStatus(s -> s.queues().totalBytes() == 4096);
    h.advance(Duration.ofSeconds(35));

    assertThat(h.sim.isProtected(ScaleInHarness.INSTANCE)).isTrue();
    assertThat(h.calls("SetInstanceProtection")).hasSize(1);
    assertThat(h.status().scaleInProtected()).isTrue();
    // Auto Scaling now chooses the idle instance, never the busy one.
    assertThat(h.sim.scaleIn(ScaleInHarness.GROUP)).contains("i-0idle");

    Files.delete(file);
    h.awaitStatus(s -> s.queues().empty());
    h.advance(Duration.ofMinutes(2));
    assertThat(h.sim.isProtected(ScaleInHarness.INSTANCE)).isFalse();
    assertThat(h.calls("SetInstanceProtection")).hasSize(2);
  }

  static final String SPOT_PATH = "/latest/meta-data/spot/instance-action";
  static final String REBALANCE_PATH = "/latest/meta-data/events/recommendations/rebalance";
  static final String LIFE_CYCLE_PATH = "/latest/meta-data/instance-life-cycle";
  static final String TARGET_PATH = "/latest/meta-data/autoscaling/target-lifecycle-state";

  @Test
  void anOnDemandWorker_asksItsPurchasingOptionOnce_andReadsSpotNoticesOnceAMinute()
      throws IOException {
    queued("00001.pq", 999);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.startAgent();
    h.advance(Duration.ofSeconds(60)); // a poll at each 5 s step at least

    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> h.sim.imdsGets(TARGET_PATH) >= 10);
    assertThat(h.sim.imdsGets(LIFE_CYCLE_PATH)).isEqualTo(1);
    // at the first poll (the option not yet known), then once a minute
    assertThat(h.sim.imdsGets(SPOT_PATH)).isBetween(1L, 2L);
    assertThat(h.sim.imdsGets(REBALANCE_PATH)).isBetween(1L, 2L);
    // and it still holds its queued data when terminated
    h.scaleInUntilHolding();
    assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);
  }

  @Test
  void aSpotWorker_pollsBothNoticesAtEveryPoll() throws IOException {
    queued("00001.pq", 999);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.sim.setPurchasingOption(ScaleInHarness.INSTANCE, "spot");
    h.startAgent();
    h.advance(Duration.ofSeconds(60));
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> h.sim.imdsGets(SPOT_PATH) >= 10);
    assertThat(h.sim.imdsGets(LIFE_CYCLE_PATH)).isEqualTo(1);
    assertThat(h.sim.imdsGets(REBALANCE_PATH)).isGreaterThanOrEqualTo(10);
  }

  @Test
  void spotAndRebalanceNotices_runTheCommandOnceEach_andShowInStatus() throws IOException {
    queued("00001.pq", 999);
    Path log = work.resolve("events.log");
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.sim.setPurchasingOption(ScaleInHarness.INSTANCE, "spot");
    h.set(
        Setting.ON_TERMINATION_COMMAND,
        "echo \"$DRAINGUARD_EVENT $DRAINGUARD_PHASE $DRAINGUARD_INSTANCE_ID"
            + " $DRAINGUARD_QUEUED_BYTES\" >> "
            + log);
    h.startAgent();
    h.sim.rebalanceRecommendation(ScaleInHarness.INSTANCE, h.clock.instant());
    h.advance(Duration.ofSeconds(10));
    JsonNode j = new ObjectMapper().readTree(statusJson());
    assertThat(j.get("rebalanceRecommendedAt").asText()).isNotEmpty();
    assertThat(j.get("phase").asText()).isEqualTo("IN_SERVICE");

    h.sim.spotInterruption(
        ScaleInHarness.INSTANCE, "terminate", h.clock.instant().plusSeconds(120));
    h.advance(Duration.ofSeconds(10));
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> Files.exists(log) && Files.readAllLines(log).size() == 2);
    h.advance(Duration.ofSeconds(30));

    assertThat(Files.readAllLines(log))
        .containsExactly(
            "rebalance-recommendation IN_SERVICE " + ScaleInHarness.INSTANCE + " 999",
            "spot-interruption IN_SERVICE " + ScaleInHarness.INSTANCE + " 999");
    j = new ObjectMapper().readTree(statusJson());
    assertThat(j.get("phase").asText()).isEqualTo("INTERRUPTED");
    assertThat(j.get("spotInterruptionAction").asText()).isEqualTo("terminate");
    assertThat(j.get("eventCommands"))
        .extracting(JsonNode::asText)
        .containsExactly("rebalance-recommendation", "spot-interruption");
    assertThat(j.get("bytesAtEnd").asLong()).isEqualTo(999);
  }

  String statusJson() {
    MainTest.Run r =
        MainTest.execute("status", "--json", "--control-socket", h.socket().toString());
    return r.out();
  }

  static List<String> lines(Path p) throws IOException {
    return Files.readAllLines(p);
  }
}
