package dev.drainguard.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.drainguard.aws.AwsCredentials;
import dev.drainguard.aws.CredentialsProvider;
import dev.drainguard.drain.CommandRunner;
import dev.drainguard.drain.DeadlinePolicy;
import dev.drainguard.drain.DrainController;
import dev.drainguard.drain.DrainLoop;
import dev.drainguard.drain.DrainSettings;
import dev.drainguard.drain.DrainStatus;
import dev.drainguard.drain.Effects;
import dev.drainguard.drain.Event;
import dev.drainguard.drain.ImdsPoller;
import dev.drainguard.drain.Phase;
import dev.drainguard.imds.HttpInstanceMetadata;
import dev.drainguard.imds.InstanceMetadata;
import dev.drainguard.lifecycle.LifecycleActions;
import dev.drainguard.lifecycle.LifecycleHookRef;
import dev.drainguard.lifecycle.QueryLifecycleActions;
import dev.drainguard.lifecycle.TerminationHook;
import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.net.RetryPolicy;
import dev.drainguard.net.Sleeper;
import dev.drainguard.queue.QueueRootSpec;
import dev.drainguard.queue.QueueWatcher;
import dev.drainguard.sim.Simulator;
import dev.drainguard.testing.MutableClock;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A scale-in against the simulator, assembled as the agent assembles it (real SDK adapters wrapped
 * by the metrics, real queue watcher, controller and loop, the metrics as status listener), with
 * {@code /metrics} scraped over loopback HTTP while the action is held and after it completed.
 */
class MetricsScaleInTest {

  static final String GROUP = "workers";
  static final String HOOK = "hold-queues";
  static final String INSTANCE = "i-0123456789abcdef0";
  static final String HEARTBEAT = "RecordLifecycleActionHeartbeat";

  /** HeartbeatTimeout 60 s: the controller heartbeats every 20 s (a third). */
  static final Duration HT = Duration.ofSeconds(60);

  static final Duration QUIET = Duration.ofSeconds(10);

  /** Longest step of the test clock: a quarter of the heartbeat interval. */
  static final Duration STEP = Duration.ofSeconds(5);

  static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir Path root;

  final MutableClock clock = MutableClock.atNewYear();
  final HttpClient http = HttpClient.newBuilder().connectTimeout(WAIT).build();
  Simulator sim;
  HttpInstanceMetadata imdsAdapter;
  QueryLifecycleActions apiAdapter;
  QueueWatcher watcher;
  DrainLoop loop;
  DrainController controller;
  ImdsPoller poller;
  Effects effects;
  AgentMetrics metrics;
  MetricsServer server;

  @BeforeEach
  void start() throws IOException {
    Path dir = Files.createDirectories(root.resolve("0/out-s3"));
    Files.write(dir.resolve("00001.pq"), new byte[1000]);
    Files.write(dir.resolve("00002.pq"), new byte[234]);

    sim = Simulator.start(clock);
    sim.addGroup(GROUP);
    sim.addInstance(GROUP, INSTANCE, "eu-west-1", true);
    sim.addTerminationHook(GROUP, HOOK, HT, "ABANDON");
    sim.setDeregistrationDelay(Duration.ZERO);

    metrics = new AgentMetrics(clock, "test");
    LoopbackGuard guard = LoopbackGuard.of(true);
    imdsAdapter =
        new HttpInstanceMetadata(sim.imdsEndpoint(), guard, RetryPolicy.DEFAULT, Sleeper.NONE);
    apiAdapter =
        new QueryLifecycleActions(
            "eu-west-1",
            sim.autoScalingEndpoint(),
            CredentialsProvider.fixed(AwsCredentials.of("test", "test", "fixed test keys")),
            guard,
            RetryPolicy.DEFAULT,
            Sleeper.NONE);
    InstanceMetadata imds = metrics.instrument(imdsAdapter);
    LifecycleActions api = metrics.instrument(apiAdapter);
    TerminationHook hook = api.terminationHooks(GROUP).get(0);

    java.util.concurrent.atomic.AtomicReference<DrainLoop> loopRef =
        new java.util.concurrent.atomic.AtomicReference<>();
    java.util.function.Consumer<Event> sink =
        e -> {
          DrainLoop l = loopRef.get();
          if (l != null) {
            l.offer(e);
          }
        };
    java.util.concurrent.atomic.AtomicLong seq = new java.util.concurrent.atomic.AtomicLong();
    watcher =
        new QueueWatcher(
            List.of(new QueueRootSpec(root, List.of(), 0)),
            clock,
            s -> {
              sink.accept(new Event.FilesRead(s, seq.incrementAndGet(), false));
              metrics.onQueues(s);
            });
    watcher.start();
    DrainSettings settings =
        new DrainSettings(
            QUIET,
            Duration.ofMinutes(10),
            Duration.ofMinutes(15),
            DeadlinePolicy.EXPIRE,
            Duration.ofMinutes(5),
            Optional.empty(),
            Duration.ofSeconds(1),
            Optional.empty(),
            Duration.ofMinutes(1),
            Optional.empty(),
            dev.drainguard.drain.ProtectionSettings.OFF);
    CommandRunner noCommand =
        (name, command, env, timeout) -> CompletableFuture.failedFuture(new AssertionError(name));
    LifecycleHookRef ref = new LifecycleHookRef(GROUP, HOOK, INSTANCE);
    controller =
        new DrainController(
            settings,
            ref,
            hook,
            dev.drainguard.queue.DrainedWhen.ALL,
            java.util.Map.of(),
            watcher.snapshot(),
            clock.instant(),
            Duration.ofSeconds(5),
            metrics::onStatus);
    metrics.onStatus(controller.status());
    effects =
        new Effects(
            api,
            noCommand,
            () ->
                CompletableFuture.runAsync(
                    () ->
                        sink.accept(
                            new Event.FilesRead(watcher.rescan(), seq.incrementAndGet(), true))),
            Executors.newCachedThreadPool(),
            Effects.CALL_DEADLINE,
            sink);
    loop =
        new DrainLoop(
            controller,
            effects::execute,
            clock,
            Optional.of(Duration.ofMillis(5)),
            () -> {
              throw new AssertionError("the decision thread died");
            });
    loopRef.set(loop);
    loop.start();
    poller =
        new ImdsPoller(
            imds,
            Duration.ofSeconds(1),
            clock,
            Optional.of(Duration.ofMillis(5)),
            () -> true,
            () -> controller.status().phase() == Phase.IN_SERVICE,
            sink);
    poller.start();
    server = MetricsServer.start(metrics, InetAddress.getByName("127.0.0.1"), 0);
  }

  @AfterEach
  void stop() {
    for (AutoCloseable c :
        new AutoCloseable[] {server, poller, loop, watcher, apiAdapter, imdsAdapter}) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception e) {
        // keep closing the others
      }
    }
    if (sim != null) {
      sim.close();
    }
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
            .timeout(WAIT)
            .build();
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  private Scrape scrape() throws IOException, InterruptedException {
    HttpResponse<String> r = get("/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    return new Scrape(r.body());
  }

  /** Moves the clock in steps, each evaluated by the controller before the next. */
  private void advance(Duration d) {
    Duration left = d;
    while (!left.isZero()) {
      Duration step = left.compareTo(STEP) < 0 ? left : STEP;
      clock.advance(step);
      left = left.minus(step);
      Instant now = clock.instant();
      long giveUp = System.nanoTime() + WAIT.toNanos();
      while (controller.status().evaluatedAt().isBefore(now)
          || !poller.idle()
          || effects.outstanding() > 0
          || !loop.idle()) {
        assertThat(System.nanoTime()).as("controller evaluated %s", now).isLessThan(giveUp);
        LockSupport.parkNanos(1_000_000);
      }
    }
  }

  private DrainStatus awaitStatus(Predicate<DrainStatus> p) {
    await().atMost(WAIT).until(() -> p.test(controller.status()));
    return controller.status();
  }

  private long acceptedHeartbeats() {
    return sim.calls(HEARTBEAT).stream().filter(c -> c.succeeded()).count();
  }

  private void holdFor(Duration d) {
    sim.terminate(INSTANCE);
    advance(Duration.ofSeconds(1));
    awaitStatus(s -> s.phase() == Phase.HOLDING);
    advance(d);
  }

  @Test
  void scrapeWhileHolding_showsTheQueuedBytesAndEveryAcceptedHeartbeat() throws Exception {
    holdFor(Duration.ofSeconds(65));

    long accepted = acceptedHeartbeats();
    // The first heartbeat found the action active, then one every 20 s for 65 s.
    assertThat(accepted).isEqualTo(4);
    // The listener runs just after the controller publishes its status: wait, bounded, for it.
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> assertThat(scrape().get("drainguard_heartbeats_total")).isEqualTo(accepted));
    Scrape s = scrape();
    assertThat(s.get("drainguard_queue_bytes", "root", root.toString())).isEqualTo(1234.0);
    assertThat(s.get("drainguard_queue_files", "root", root.toString())).isEqualTo(2.0);
    assertThat(s.get("drainguard_queue_root_error", "root", root.toString())).isZero();
    assertThat(
            s.get(
                "drainguard_lifecycle_calls_total",
                "operation",
                "heartbeat",
                "outcome",
                "accepted",
                "result",
                "none"))
        .isEqualTo(accepted);
    assertThat(s.get("drainguard_phase", "phase", "holding")).isEqualTo(1.0);
    assertThat(s.get("drainguard_phase", "phase", "in_service")).isZero();
    Instant active = controller.status().actionActiveSince().orElseThrow();
    assertThat(s.get("drainguard_held_seconds"))
        .isEqualTo(Duration.between(active, clock.instant()).toSeconds());
    assertThat(
            s.get("drainguard_imds_reads_total", "path", "target_lifecycle_state", "outcome", "ok"))
        .isPositive();
    assertThat(
            s.get(
                "drainguard_lifecycle_calls_total",
                "operation",
                "describe_hooks",
                "outcome",
                "ok",
                "result",
                "none"))
        .as("the hook is read at start, when termination is noticed and when the action is active")
        .isEqualTo(3.0);
    assertThat(get("/status").statusCode()).isEqualTo(404);
  }

  @Test
  void scrapeAfterTheQueuesDrained_showsOneCompletionWithNothingLeft() throws Exception {
    holdFor(Duration.ofSeconds(30));

    try (var files = Files.walk(root)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        Files.delete(f);
      }
    }
    awaitStatus(s -> s.queues().empty());
    advance(QUIET.plusSeconds(1));
    awaitStatus(s -> s.phase() == Phase.COMPLETED);

    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(
                        scrape()
                            .value(
                                "drainguard_completions_total",
                                "result",
                                "continue",
                                "reason",
                                "drained"))
                    .hasValue(1.0));
    Scrape s = scrape();
    assertThat(s.get("drainguard_bytes_at_completion")).isZero();
    assertThat(s.get("drainguard_queue_bytes", "root", root.toString())).isZero();
    assertThat(s.get("drainguard_phase", "phase", "completed")).isEqualTo(1.0);
    assertThat(
            s.get(
                "drainguard_lifecycle_calls_total",
                "operation",
                "complete",
                "outcome",
                "accepted",
                "result",
                "continue"))
        .isEqualTo(1.0);
    assertThat(s.get("drainguard_heartbeats_total")).isEqualTo(acceptedHeartbeats());
  }
}
