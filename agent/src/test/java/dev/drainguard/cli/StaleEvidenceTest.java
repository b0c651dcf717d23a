package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.drainguard.aws.AwsCredentials;
import dev.drainguard.aws.CredentialsProvider;
import dev.drainguard.config.ConfigLoader;
import dev.drainguard.config.Setting;
import dev.drainguard.drain.DrainStatus;
import dev.drainguard.drain.Phase;
import dev.drainguard.net.Sleeper;
import dev.drainguard.queue.ProbeReading;
import dev.drainguard.sim.ApiCall;
import dev.drainguard.sim.Simulator;
import dev.drainguard.testing.CriblApiStub;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13's reproductions 1, 3, 4 and 7, through the real agent against the simulator: the
 * decision core must never decide on evidence of unknown age, never wait on a slow call, never hang
 * at start for a probe, and never stop its schedule for a Throwable. (Reproductions 2, 5 and 9 are
 * in CriblApiProbeTest and CommandProbeTest, 6 and 8 in the watcher's tests.)
 */
class StaleEvidenceTest {

  static final String HEARTBEAT = "RecordLifecycleActionHeartbeat";
  static final String COMPLETE = "CompleteLifecycleAction";

  @TempDir Path dir;

  /**
   * Reproduction 1: while a heartbeat took ~13 s, the loop thread was blocked and the watcher's
   * snapshots queued up; an old empty one set the quiet period's start, a fresh empty one completed
   * before the queued non-empty one was applied: CONTINUE 50 ms after the queue last held data.
   * Here the heartbeat's answer is held back (real time) while the queue empties, fills and empties
   * again on the clock; nothing may be completed until the quiet period has run from the last time
   * it held data.
   */
  @Test
  void aSlowHeartbeat_neverLetsContinueSkipTheQuietPeriod() throws Exception {
    Path root = Files.createDirectories(dir.resolve("q"));
    Path file = Files.write(root.resolve("00001.pq"), new byte[4096]);
    int port;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
      port = free.getLocalPort();
    }
    try (ScaleInHarness h = new ScaleInHarness(Duration.ofSeconds(60), Duration.ZERO, root)) {
      h.set(Setting.METRICS_PORT, Integer.toString(port));
      h.startAgent();
      h.scaleInUntilHolding();
      h.advance(Duration.ofSeconds(5));
      int before = h.calls(HEARTBEAT).size();
      h.sim.delayApi(HEARTBEAT, 1, Duration.ofSeconds(4));
      // The next heartbeat is due within 20 s: move there without waiting for its answer.
      h.clock.advance(Duration.ofSeconds(20));
      await().atMost(Duration.ofSeconds(10)).until(() -> h.calls(HEARTBEAT).size() > before);

      // While the heartbeat's answer is held back, the queue empties, fills and empties again.
      // Each change is awaited on the metrics, which follow the watcher whatever the decision
      // thread does: the old loop, blocked in the call, queued these snapshots behind it.
      Files.delete(file); // empty at t
      awaitQueuedBytes(port, root, 0);
      h.clock.advance(Duration.ofSeconds(1));
      Files.write(file, new byte[4096]); // data again at t + 1 s
      awaitQueuedBytes(port, root, 4096);
      h.clock.advance(Duration.ofSeconds(12));
      Files.delete(file); // empty again at t + 13 s
      awaitQueuedBytes(port, root, 0);
      Instant lastData = h.clock.instant();
      h.clock.advance(Duration.ofMillis(50));
      h.settle(); // the slow heartbeat has answered by now

      assertThat(h.calls(COMPLETE)).as("CONTINUE 50 ms after the queue last held data").isEmpty();
      h.advance(Duration.ofSeconds(9));
      assertThat(h.calls(COMPLETE)).isEmpty();
      h.advance(Duration.ofSeconds(2), Duration.ofSeconds(1));
      DrainStatus done = h.awaitStatus(s -> s.phase() == Phase.COMPLETED);
      assertThat(done.endedAt().orElseThrow()).isAfterOrEqualTo(lastData.plusSeconds(10));
    }
  }

  /** Waits until the agent's own metrics say {@code root} holds {@code bytes}. */
  private static void awaitQueuedBytes(int port, Path root, long bytes) {
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    String line = "drainguard_queue_bytes{root=\"" + root + "\"} ";
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(20))
        .until(
            () -> {
              String body =
                  http.send(
                          java.net.http.HttpRequest.newBuilder(
                                  java.net.URI.create("http://127.0.0.1:" + port + "/metrics"))
                              .timeout(Duration.ofSeconds(5))
                              .build(),
                          java.net.http.HttpResponse.BodyHandlers.ofString())
                      .body();
              return body.lines()
                  .anyMatch(
                      l ->
                          l.startsWith(line)
                              && Double.parseDouble(l.substring(line.length())) == bytes);
            });
  }

  /**
   * Reproduction 7: one Error (StackOverflowError) on the decision thread ended its schedule for
   * good: no heartbeat in two minutes of holding, nothing logged. Here the status listener, which
   * runs on the decision thread, throws one.
   */
  @Test
  void oneErrorOnTheDecisionThread_isLogged_andHeartbeatsGoOn() throws Exception {
    Path root = Files.createDirectories(dir.resolve("q"));
    Files.write(root.resolve("00001.pq"), new byte[100]);
    AtomicInteger thrown = new AtomicInteger();
    try (ScaleInHarness h = new ScaleInHarness(Duration.ofSeconds(60), Duration.ZERO, root)) {
      h.agent =
          Agent.start(
              h.config(),
              CredentialsProvider.fixed(AwsCredentials.of("test", "test", "fixed test keys")),
              h.clock,
              Sleeper.NONE,
              s -> {
                if (s.phase() == Phase.HOLDING && thrown.getAndIncrement() == 0) {
                  throw new StackOverflowError("thrown by a test listener");
                }
              },
              Optional.of(ScaleInHarness.TICK),
              ScaleInHarness.DIED);
      h.agents.add(h.agent);
      h.scaleInUntilHolding();
      assertThat(thrown.get()).isPositive();
      int before = h.calls(HEARTBEAT).size();
      h.advance(Duration.ofMinutes(2));
      // every 20 s (a third of the 60 s HeartbeatTimeout) for two minutes
      assertThat(h.calls(HEARTBEAT).size() - before).isGreaterThanOrEqualTo(6);
      assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);
    }
  }

  /**
   * Reproduction 3: a Cribl API that sends headers and half a body at start-up hung the agent for
   * ever before its control socket and IMDS polling started. Now the agent starts at once, the
   * probe is unknown, and a scale-in is held.
   */
  @Test
  void aCriblApiStallingAtStart_neitherHangsTheAgent_norLetsTheInstanceGo() throws Exception {
    Path root = Files.createDirectories(dir.resolve("q"));
    Path token = Files.writeString(dir.resolve("token"), "secret\n");
    Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
    try (CriblApiStub cribl = CriblApiStub.start();
        ScaleInHarness h = new ScaleInHarness(Duration.ofSeconds(60), Duration.ZERO, root)) {
      cribl.answer(0, new CriblApiStub.StallMidBody("{\"results\":{\"metrics\":[]}}"));
      h.set(Setting.CRIBL_API_URL, cribl.url().toString())
          .set(Setting.CRIBL_TOKEN_FILE, token.toString())
          .set(Setting.CRIBL_WORKER_PROCESSES, "1")
          .set(Setting.PROBE_TIMEOUT, "1s")
          .set(Setting.DRAINED_WHEN, "cribl");
      long started = System.nanoTime();
      h.startAgent();
      assertThat(Duration.ofNanos(System.nanoTime() - started))
          .as("start-up does not wait for the stalled probe")
          .isLessThan(Duration.ofSeconds(30));
      assertThat(h.status().queues().probes())
          .filteredOn(p -> p.probe().equals("cribl"))
          .allMatch(p -> p.unknown().isPresent());
      h.scaleInUntilHolding();
      h.advance(Duration.ofMinutes(3));
      assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);
      assertThat(h.calls(COMPLETE)).isEmpty();
    }
  }

  /**
   * Reproduction 4: quiet-period 1 s, probe-interval 5 s: the command probe read 0 once, 4096 bytes
   * were queued 10 ms later, and the agent completed on that single reading. Now a reading that
   * started after the quiet period ended must confirm it. Real clock: the probe's schedule is real
   * time.
   */
  @Test
  void aQuietPeriodShorterThanTheProbeInterval_needsAFreshReadingBeforeRelease() throws Exception {
    Path root = Files.createDirectories(dir.resolve("q"));
    Path bytes = Files.writeString(dir.resolve("bytes"), "4096");
    try (Simulator sim = Simulator.start(Clock.systemUTC())) {
      sim.addGroup("g");
      sim.addInstance("g", "i-1", "us-east-1", true);
      sim.addTerminationHook("g", "h", Duration.ofMinutes(1), "ABANDON");
      Map<Setting, List<String>> flags = new EnumMap<>(Setting.class);
      flags.put(Setting.QUEUE_ROOT, List.of(root.toString()));
      flags.put(Setting.IMDS_ENDPOINT, List.of(sim.imdsEndpoint().toString()));
      flags.put(Setting.AUTOSCALING_ENDPOINT, List.of(sim.autoScalingEndpoint().toString()));
      flags.put(Setting.LOOPBACK_ONLY, List.of("true"));
      flags.put(Setting.QUIET_PERIOD, List.of("1s"));
      flags.put(Setting.PROBE_INTERVAL, List.of("5s"));
      flags.put(Setting.QUEUE_PROBE_COMMAND, List.of("cat " + bytes));
      flags.put(Setting.DRAINED_WHEN, List.of("command"));
      flags.put(Setting.IMDS_POLL_INTERVAL, List.of("1s"));
      flags.put(Setting.CONTROL_SOCKET, List.of(dir.resolve("control.sock").toString()));
      try (Agent agent =
          Agent.start(
              new ConfigLoader(flags, Map.of(), Optional.empty()).loadWithoutFile(),
              CredentialsProvider.fixed(AwsCredentials.of("test", "test", "fixed test keys")),
              Clock.systemUTC(),
              Sleeper.NONE,
              s -> {},
              Optional.empty(),
              ScaleInHarness.DIED)) {
        sim.terminate("i-1");
        await().atMost(Duration.ofSeconds(20)).until(() -> agent.status().phase() == Phase.HOLDING);
        Files.writeString(bytes, "0");
        await()
            .atMost(Duration.ofSeconds(20))
            .pollInterval(Duration.ofMillis(5))
            .until(() -> command(agent.status()).map(ProbeReading::empty).orElse(false));
        Files.writeString(bytes, "4096"); // queued again right after the one empty reading
        await().pollDelay(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(4)).until(() -> true);
        assertThat(sim.actionEnd("i-1")).as("completed on one reading of 0").isEmpty();
        assertThat(agent.status().phase()).isEqualTo(Phase.HOLDING);

        Files.writeString(bytes, "0");
        await().atMost(Duration.ofSeconds(30)).until(() -> sim.actionEnd("i-1").isPresent());
        List<ApiCall> completes = sim.calls(COMPLETE);
        assertThat(completes).hasSize(1);
      }
    }
  }

  private static Optional<ProbeReading> command(DrainStatus s) {
    return s.queues().probes().stream().filter(p -> p.probe().equals("command")).findFirst();
  }
}
