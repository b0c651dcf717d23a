package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.drainguard.sim.Simulator;
import dev.drainguard.testing.CriblApiStub;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Adversarial review of branch {@code core}: the Cribl API probe, through {@code drainguard run}
 * against the simulator and a Cribl API on loopback, in real time. Expected to FAIL until the cause
 * in the comment is fixed.
 */
class AdversaryCriblTest {

  static final String GROUP = "workers";
  static final String INSTANCE = "i-1";
  static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;
  Simulator sim;
  CriblApiStub api;
  CommandLine cl;
  CompletableFuture<MainTest.Run> running;

  @AfterEach
  void stop() {
    if (cl != null) {
      RunCommand run = cl.getSubcommands().get("run").getCommand();
      run.stop.countDown();
      running.join();
    }
    if (sim != null) {
      sim.close();
    }
    if (api != null) {
      api.close();
    }
  }

  /** One bucket of Cribl's metrics answer, measured at {@code epochSeconds}. */
  static String bucket(long epochSeconds, long bytes) {
    return "{\"results\":{\"metrics\":[{\"_time\":[{\"val\":"
        + epochSeconds
        + "}],\"pq.queue_size\":[{\"model\":{\"output\":\"splunk_lb:idx\"},\"val\":"
        + bytes
        + "}]}]}}";
  }

  /**
   * Attack: the worker's metrics API answers with a time bucket measured 10 minutes ago (metrics
   * that stopped being aggregated, a worker process whose metrics are served from the last report):
   * it says 0 bytes, as the queue was then.
   *
   * <p>What goes wrong: CriblApiProbe.read stamps the reading with the instant the request started
   * (CriblApiProbe.java:147,167) and never looks at the bucket's own {@code _time}, which
   * CriblApiProbe.parse reads only to pick the latest bucket (CriblApiProbe.java:313-321). So a
   * measurement 600 s old counts as a fresh empty reading that started after the quiet period
   * ended: it satisfies Evidence.confirmed and the agent sends CONTINUE within seconds. DESIGN.md:
   * "A reading older than its source's interval + timeout counts as unknown" — the age of a Cribl
   * reading is the age of its bucket, not of the HTTP request.
   */
  @Test
  void aMetricsBucketTenMinutesOld_isNotAFreshEmptyReading() throws IOException {
    api = CriblApiStub.start();
    long tenMinutesAgo = Clock.systemUTC().instant().getEpochSecond() - 600;
    api.answer(0, new CriblApiStub.Status(200, bucket(tenMinutesAgo, 0)));
    Path root = Files.createDirectories(dir.resolve("queues"));
    sim = Simulator.start(Clock.systemUTC());
    sim.addGroup(GROUP);
    sim.addInstance(GROUP, INSTANCE, "us-east-1", true);
    sim.addTerminationHook(GROUP, "h", Duration.ofMinutes(1), "ABANDON");
    List<String> args = new ArrayList<>(MainTest.runAgainst(sim, dir));
    args.set(args.indexOf("--queue-root") + 1, root.toString());
    args.addAll(
        List.of(
            "--quiet-period",
            "1s",
            "--probe-interval",
            "1s",
            "--cribl-api-url",
            api.url().toString(),
            "--cribl-worker-processes",
            "1"));
    cl = DrainguardCommand.commandLine();
    running =
        CompletableFuture.supplyAsync(() -> MainTest.execute(cl, args.toArray(String[]::new)));
    await().atMost(WAIT).until(() -> Files.exists(dir.resolve("control.sock")));

    sim.terminate(INSTANCE);
    await()
        .atMost(WAIT)
        .until(
            () ->
                sim.calls("RecordLifecycleActionHeartbeat").stream().anyMatch(c -> c.succeeded()));

    // Quiet period 1 s, probe interval 1 s: a fresh empty reading would complete within ~3 s.
    await()
        .during(Duration.ofSeconds(6))
        .atMost(Duration.ofSeconds(8))
        .untilAsserted(
            () ->
                assertThat(sim.calls("CompleteLifecycleAction"))
                    .as("CONTINUE sent on a Cribl bucket measured 600 s before it was asked for")
                    .isEmpty());
    assertThat(sim.lifecycleState(INSTANCE)).isEqualTo("Terminating:Wait");
  }
}
