package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.aws.AwsCredentials;
import dev.drainguard.aws.CredentialsException;
import dev.drainguard.aws.CredentialsProvider;
import dev.drainguard.config.Setting;
import dev.drainguard.drain.DrainStatus;
import dev.drainguard.drain.Phase;
import dev.drainguard.net.Sleeper;
import dev.drainguard.sim.ActionEnd;
import dev.drainguard.sim.ApiCall;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Auto Scaling faults against the real agent: throttling, 5xx, failing credentials, answers that
 * time out or are malformed, and "No active Lifecycle Action" at every point of the lifecycle. The
 * action is never completed with data queued, and a passing fault never lets it time out.
 */
class AutoScalingFaultTest {

  static final String HEARTBEAT = "RecordLifecycleActionHeartbeat";
  static final String COMPLETE = "CompleteLifecycleAction";
  static final String NO_ACTIVE = "No active Lifecycle Action found with instance ID ";

  /** HeartbeatTimeout 60 s: heartbeats every 20 s. */
  static final Duration HT = Duration.ofSeconds(60);

  @TempDir Path root;
  ScaleInHarness h;

  @AfterEach
  void tearDown() {
    if (h != null) {
      h.close();
    }
  }

  private Path queued(int bytes) throws IOException {
    Path dir = Files.createDirectories(root.resolve("0/out-s3"));
    return Files.write(dir.resolve("00001.pq"), new byte[bytes]);
  }

  private void drainAndExpectCompletion(Path file) throws IOException {
    Files.delete(file);
    h.awaitStatus(s -> s.queues().empty());
    h.advance(Duration.ofSeconds(30), Duration.ofSeconds(1));
    DrainStatus done = h.awaitStatus(s -> s.phase() == Phase.COMPLETED);
    assertThat(done.bytesAtEnd()).isZero();
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE))
        .hasValueSatisfying(e -> assertThat(e.kind()).isEqualTo(ActionEnd.Kind.COMPLETED));
  }

  /** No CONTINUE was ever sent while the queue held data. */
  private void noContinueWhileQueued(Instant drainedAt) {
    assertThat(h.calls(COMPLETE))
        .filteredOn(c -> "CONTINUE".equals(c.params().get("LifecycleActionResult")))
        .allSatisfy(c -> assertThat(c.at()).isAfterOrEqualTo(drainedAt));
  }

  /** The longest time between two accepted heartbeats (and from the last one to now). */
  private Duration longestGap() {
    List<Instant> ok =
        h.calls(HEARTBEAT).stream().filter(ApiCall::succeeded).map(ApiCall::at).toList();
    Duration longest = Duration.ZERO;
    for (int i = 1; i < ok.size(); i++) {
      Duration gap = Duration.between(ok.get(i - 1), ok.get(i));
      longest = gap.compareTo(longest) > 0 ? gap : longest;
    }
    return longest;
  }

  @ParameterizedTest(name = "HTTP {0} {1}")
  @CsvSource({"400, Throttling", "500, InternalFailure", "503, ServiceUnavailable"})
  void heartbeatErrors_areRetriedInsideTheHeartbeatTimeout(int status, String code)
      throws IOException {
    Path file = queued(100);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.startAgent();
    h.scaleInUntilHolding();
    h.advance(Duration.ofSeconds(15));

    // 6 errors: the adapter's 3 attempts fail twice, so two heartbeat rounds fail.
    h.sim.failApi(HEARTBEAT, 6, status, code, "injected");
    h.advance(Duration.ofSeconds(10), Duration.ofSeconds(1));
    assertThat(h.status().lastError()).hasValueSatisfying(e -> assertThat(e).contains(code));
    h.advance(HT.multipliedBy(2), Duration.ofSeconds(1));

    assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE)).isEmpty();
    // 20 s interval, two failed rounds retried 5 s apart: well inside the 60 s timeout.
    assertThat(longestGap()).isLessThanOrEqualTo(Duration.ofSeconds(31));
    Instant drainedAt = h.clock.instant();
    drainAndExpectCompletion(file);
    noContinueWhileQueued(drainedAt);
  }

  @Test
  void completeErrors_areRetriedUntilTheActionIsCompleted() throws IOException {
    Path file = queued(100);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.startAgent();
    h.scaleInUntilHolding();
    h.sim.failApi(COMPLETE, 6, 503, "ServiceUnavailable", "injected");

    Files.delete(file);
    h.awaitStatus(s -> s.queues().empty());
    h.advance(Duration.ofSeconds(11), Duration.ofSeconds(1));
    assertThat(h.status().phase()).isEqualTo(Phase.DRAINED);
    assertThat(h.status().lastError())
        .hasValueSatisfying(e -> assertThat(e).contains("ServiceUnavailable"));
    h.advance(Duration.ofSeconds(15), Duration.ofSeconds(1));

    h.awaitStatus(s -> s.phase() == Phase.COMPLETED);
    // Two failed rounds of 3 attempts, then the one that got through.
    assertThat(h.calls(COMPLETE))
        .hasSize(7)
        .last()
        .satisfies(c -> assertThat(c.succeeded()).isTrue());
  }

  @Test
  void credentialsFailure_isReportedAndRetried_andTheActionStaysOpen() throws IOException {
    Path file = queued(100);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    AtomicBoolean broken = new AtomicBoolean();
    CredentialsProvider credentials =
        () -> {
          if (broken.get()) {
            throw new CredentialsException(
                "Unable to load credentials from any of the providers in the chain", null);
          }
          return AwsCredentials.of("test", "test", "test keys");
        };
    Agent agent =
        Agent.start(
            h.config(),
            credentials,
            h.clock,
            Sleeper.NONE,
            s -> {},
            Optional.of(ScaleInHarness.TICK),
            ScaleInHarness.DIED);
    h.agent = agent;
    h.agents.add(agent);
    h.scaleInUntilHolding();
    h.advance(Duration.ofSeconds(5));
    long before = h.calls(HEARTBEAT).size();

    // 35 s without credentials: the heartbeats due then cannot even be signed.
    broken.set(true);
    h.advance(Duration.ofSeconds(35), Duration.ofSeconds(1));
    assertThat(h.calls(HEARTBEAT)).hasSize((int) before); // nothing reached Auto Scaling
    assertThat(h.status().lastError())
        .hasValueSatisfying(e -> assertThat(e).contains("Unable to load credentials"));
    assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);

    broken.set(false);
    h.advance(Duration.ofSeconds(6), Duration.ofSeconds(1));
    assertThat(h.calls(HEARTBEAT).size()).isGreaterThan((int) before);
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE)).isEmpty();
    drainAndExpectCompletion(file);
  }

  @Test
  void completeAnswerLost_theActionWasCompleted_andTheAgentSaysSoWithoutRetrying()
      throws IOException {
    Path file = queued(100);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.startAgent();
    h.scaleInUntilHolding();
    // The first CONTINUE reaches Auto Scaling, but its answer comes after the 4 s attempt timeout.
    h.sim.delayApi(COMPLETE, 1, Duration.ofMillis(4500));

    Files.delete(file);
    h.awaitStatus(s -> s.queues().empty());
    h.advance(Duration.ofSeconds(11), Duration.ofSeconds(1));

    DrainStatus end = h.awaitStatus(s -> s.phase().terminal());
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE))
        .hasValueSatisfying(e -> assertThat(e.result()).isEqualTo("CONTINUE"));
    // The retry found no action: the agent ends, naming the lost answer, with nothing queued.
    assertThat(end.phase()).isEqualTo(Phase.LOST);
    assertThat(end.endReason()).hasValueSatisfying(r -> assertThat(r).contains("answer was lost"));
    assertThat(end.bytesAtEnd()).isZero();
  }

  @Test
  void malformedAnswers_areErrorsTheAgentSurvives() throws IOException {
    Path file = queued(100);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.startAgent();
    h.scaleInUntilHolding();
    h.advance(Duration.ofSeconds(5));

    // A truncated document, then one that is not XML at all: one failed round each.
    h.sim.corruptApi(HEARTBEAT, 3, "<RecordLifecycleActionHeartbeatResponse><ResponseMeta");
    h.advance(Duration.ofSeconds(16), Duration.ofSeconds(1));
    assertThat(h.status().lastError()).isPresent();
    h.sim.corruptApi(HEARTBEAT, 3, "\u0000\u0001 not xml");
    h.advance(HT.multipliedBy(2), Duration.ofSeconds(1));

    assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE)).isEmpty();
    assertThat(h.calls(COMPLETE)).isEmpty();
    drainAndExpectCompletion(file);
  }

  // ---- "No active Lifecycle Action" at every point of the lifecycle ----

  private void noActive(String action, int times) {
    h.sim.failApi(action, times, 400, "ValidationError", NO_ACTIVE + ScaleInHarness.INSTANCE);
  }

  @Test
  void noActiveAction_whileDeregistering_isRetriedUntilTheActionIsActive() throws IOException {
    Path file = queued(100);
    h = new ScaleInHarness(HT, Duration.ofSeconds(40), root);
    h.startAgent();
    h.sim.terminate(ScaleInHarness.INSTANCE);
    h.advance(Duration.ofSeconds(38), Duration.ofSeconds(1));
    assertThat(h.status().phase()).isEqualTo(Phase.AWAITING_ACTION);
    // And "briefly after" the action became active, Auto Scaling may still say so.
    noActive(HEARTBEAT, 2);
    // each "No active" is followed by a jittered pause of at most a third of the 60 s timeout
    h.advance(Duration.ofSeconds(60), Duration.ofSeconds(1));

    assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);
    drainAndExpectCompletion(file);
  }

  @Test
  void noActiveAction_toARestartedAgent_meansNotActiveYet_andItResumesHolding() throws IOException {
    Path file = queued(100);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    Agent first = h.startAgent();
    h.scaleInUntilHolding();
    h.advance(Duration.ofSeconds(10));
    first.close();

    noActive(HEARTBEAT, 1);
    h.startAgent();
    h.advance(Duration.ofSeconds(1));
    assertThat(h.status().phase()).isEqualTo(Phase.AWAITING_ACTION);
    h.advance(Duration.ofSeconds(10), Duration.ofSeconds(1));

    assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE)).isEmpty();
    drainAndExpectCompletion(file);
  }

  @Test
  void noActiveAction_whileHolding_isAskedAbout_andTheHoldGoesOn() throws IOException {
    // Issue 14: "No active Lifecycle Action" while the action is still active (Auto Scaling says
    // Terminating:Wait) is a blip, not the end: LOST here lost the data that was still queued.
    queued(4096);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.startAgent();
    h.scaleInUntilHolding();
    h.advance(Duration.ofSeconds(5));

    noActive(HEARTBEAT, 1);
    h.advance(Duration.ofSeconds(20), Duration.ofSeconds(1));
    h.advance(HT.multipliedBy(3), Duration.ofSeconds(5));

    assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE)).isEmpty();
    assertThat(h.calls("DescribeAutoScalingInstances")).isNotEmpty();
    assertThat(h.calls(COMPLETE)).isEmpty();
  }

  @Test
  void noActiveAction_onComplete_isAskedAbout_andTheCompleteIsSentAgain() throws IOException {
    Path file = queued(100);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.startAgent();
    h.scaleInUntilHolding();
    noActive(COMPLETE, 1);

    Files.delete(file);
    h.awaitStatus(s -> s.queues().empty());
    h.advance(Duration.ofSeconds(40), Duration.ofSeconds(1));

    DrainStatus done = h.awaitStatus(s -> s.phase() == Phase.COMPLETED);
    assertThat(done.bytesAtEnd()).isZero();
    assertThat(h.calls(COMPLETE)).hasSize(2); // the first answer was a blip: asked, then sent again
  }

  @Test
  void noActiveAction_onAbandonForRetention_theGroupDecides_andTheRetainedInstanceDrains()
      throws IOException {
    Path file = queued(100);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.sim.setRetainOnTerminateHookAbandon(ScaleInHarness.GROUP, true);
    h.set(Setting.DEADLINE_POLICY, "retain").set(Setting.MAX_HOLD, "2m");
    h.startAgent();
    h.scaleInUntilHolding();
    noActive(COMPLETE, 1);

    // At max-hold the ABANDON gets "No active": the agent stops heartbeating and asks the group,
    // whose hook then times out with its DefaultResult ABANDON: retained all the same.
    h.advance(Duration.ofMinutes(2).plus(HT).plusSeconds(10), Duration.ofSeconds(5));
    assertThat(h.sim.lifecycleState(ScaleInHarness.INSTANCE)).isEqualTo("Terminating:Retained");
    assertThat(h.status().phase()).isEqualTo(Phase.RETAINED);
    assertThat(h.calls(COMPLETE))
        .noneMatch(c -> "CONTINUE".equals(c.params().get("LifecycleActionResult")));

    Files.delete(file);
    h.awaitStatus(s -> s.queues().empty());
    h.advance(Duration.ofSeconds(11), Duration.ofSeconds(1));
    h.awaitStatus(s -> s.phase() == Phase.COMPLETED);
    assertThat(h.sim.lifecycleState(ScaleInHarness.INSTANCE)).isEqualTo("Terminated");
  }
}
