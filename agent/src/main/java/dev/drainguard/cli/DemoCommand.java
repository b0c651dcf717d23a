package dev.drainguard.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drainguard.config.AgentConfig;
import dev.drainguard.config.ConfigLoader;
import dev.drainguard.config.Setting;
import dev.drainguard.drain.DrainStatus;
import dev.drainguard.drain.Phase;
import dev.drainguard.net.Sleeper;
import dev.drainguard.sim.ActionEnd;
import dev.drainguard.sim.Simulator;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * {@code drainguard demo}: a whole scale-in rehearsed on this machine. The real agent runs against
 * the built-in simulator of IMDS and Auto Scaling on 127.0.0.1, with a temporary queue that a
 * writer fills and a consumer drains; nothing leaves the machine.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Rehearse a scale-in on this machine: the real agent against the built-in simulator of",
      "IMDS and Auto Scaling on 127.0.0.1, with a temporary queue that fills and then drains."
    })
final class DemoCommand implements Callable<Integer> {

  /** The scenarios the demo can play. */
  enum Scenario {
    /** Scale-in while the queue holds data; the destination recovers; the action completes. */
    SCALE_IN
  }

  static final String GROUP = "cribl-workers";
  static final String HOOK = "drainguard-drain";
  static final String INSTANCE = "i-0d3m0c0ffee000001";
  static final String REGION = "us-east-1";

  /** Shortest HeartbeatTimeout Auto Scaling accepts: heartbeats show within seconds. */
  static final Duration HEARTBEAT_TIMEOUT = Duration.ofSeconds(30);

  /** A short load balancer deregistration, so "not active yet" is seen and retried. */
  static final Duration DEREGISTRATION = Duration.ofSeconds(3);

  static final int FILES = 8;
  static final int FILE_BYTES = 256 * 1024;

  /** The whole scenario must end well inside a minute; this bounds a broken run. */
  static final Duration SCENARIO_LIMIT = Duration.ofSeconds(90);

  @Spec CommandSpec spec;

  @Option(
      names = "--json",
      description =
          "Print only the JSON summary (it is always the last line of stdout; this drops the"
              + " narration before it).")
  boolean json;

  @Option(
      names = "--scenario",
      paramLabel = "NAME",
      defaultValue = "scale-in",
      converter = ScenarioConverter.class,
      description = "What to rehearse: ${COMPLETION-CANDIDATES}. Default: ${DEFAULT-VALUE}.",
      completionCandidates = ScenarioNames.class)
  Scenario scenario;

  /** The agent's own log (stderr) shows warnings and errors; the narration is on stdout. */
  static final String DEMO_LOG_LEVEL = "warn";

  private PrintWriter out;
  private DrainStatus shown;
  private Instant start;

  @Override
  public Integer call() throws Exception {
    out = spec.commandLine().getOut();
    Clock clock = Clock.systemUTC();
    start = clock.instant();
    Path dir = Files.createTempDirectory("drainguard-demo-");
    Path queue = dir.resolve("state/queues/0/out-s3");
    Files.createDirectories(queue);
    Logging.setLevel(DEMO_LOG_LEVEL);
    try (Simulator sim = Simulator.start(clock)) {
      sim.addGroup(GROUP);
      sim.addInstance(GROUP, INSTANCE, REGION, true);
      sim.addTerminationHook(GROUP, HOOK, HEARTBEAT_TIMEOUT, "ABANDON");
      sim.setDeregistrationDelay(DEREGISTRATION);
      AgentConfig cfg = config(sim, dir.resolve("state/queues"), dir.resolve("control.sock"));
      Logging.setLevel(cfg.logLevel());
      header(sim, dir);
      try (Agent agent =
          Agent.start(
              cfg,
              StaticCredentialsProvider.create(AwsBasicCredentials.create("demo", "demo")),
              clock,
              Sleeper.REAL,
              this::show)) {
        return play(sim, agent, queue);
      }
    } finally {
      deleteTree(dir);
    }
  }

  private int play(Simulator sim, Agent agent, Path queue) throws IOException {
    say(
        "writer: the destination is down; %d files of %s pile up in the queue",
        FILES, size(FILE_BYTES));
    for (int i = 0; i < FILES; i++) {
      Files.write(queue.resolve(String.format("%05d.pq", i)), new byte[FILE_BYTES]);
    }
    await(agent, s -> s.queues().totalFiles() == FILES, "the agent sees the queue");
    say(
        "scale-in: Auto Scaling starts terminating %s (load balancer deregistration %ss)",
        INSTANCE, DEREGISTRATION.toSeconds());
    sim.terminate(INSTANCE);
    await(agent, s -> s.phase() == Phase.HOLDING && s.heartbeats() >= 2, "holding with heartbeats");
    say("consumer: the destination is back; the queue drains one file at a time");
    try (Stream<Path> files = Files.list(queue)) {
      for (Path f : files.sorted().toList()) {
        pause(Duration.ofMillis(700));
        Files.delete(f);
      }
    }
    DrainStatus end = await(agent, s -> s.phase().terminal(), "the drain ends");
    Optional<ActionEnd> simEnd = sim.actionEnd(INSTANCE);
    String instanceState = sim.lifecycleState(INSTANCE);
    say(
        "simulator: lifecycle action %s, instance %s",
        simEnd.map(e -> e.kind() + " " + e.result()).orElse("still open"), instanceState);
    boolean ok =
        end.phase() == Phase.COMPLETED
            && end.result().map(r -> r.name().equals("CONTINUE")).orElse(false)
            && end.bytesAtEnd() == 0
            && simEnd
                .map(e -> e.kind() == ActionEnd.Kind.COMPLETED && "CONTINUE".equals(e.result()))
                .orElse(false);
    say(ok ? "done: no queued byte was lost" : "FAILED: the scale-in did not end as it should");
    out.println(summary(end, instanceState));
    out.flush();
    return ok ? ExitCodes.OK : ExitCodes.FAILURE;
  }

  private AgentConfig config(Simulator sim, Path root, Path socket) {
    Map<Setting, List<String>> flags = new EnumMap<>(Setting.class);
    flags.put(Setting.CONTROL_SOCKET, List.of(socket.toString()));
    flags.put(Setting.QUEUE_ROOT, List.of(root.toString()));
    flags.put(Setting.IMDS_ENDPOINT, List.of(sim.imdsEndpoint().toString()));
    flags.put(Setting.AUTOSCALING_ENDPOINT, List.of(sim.autoScalingEndpoint().toString()));
    flags.put(Setting.LOOPBACK_ONLY, List.of("true"));
    flags.put(Setting.QUIET_PERIOD, List.of("2s"));
    flags.put(Setting.HEARTBEAT_INTERVAL, List.of("2s"));
    flags.put(Setting.IMDS_POLL_INTERVAL, List.of("1s"));
    flags.put(Setting.IMDS_STARTUP_TIMEOUT, List.of("10s"));
    flags.put(Setting.ACTION_GRACE, List.of("1m"));
    flags.put(Setting.LOG_LEVEL, List.of(DEMO_LOG_LEVEL));
    return new ConfigLoader(flags, Map.of(), Optional.empty()).loadWithoutFile();
  }

  private void header(Simulator sim, Path dir) {
    say(
        "drainguard demo, scenario %s: the real agent against simulated IMDS and Auto Scaling",
        scenario.name().toLowerCase().replace('_', '-'));
    say("  imds %s, auto scaling %s", sim.imdsEndpoint(), sim.autoScalingEndpoint());
    say(
        "  group %s, hook %s (HeartbeatTimeout %ss, DefaultResult ABANDON), instance %s",
        GROUP, HOOK, HEARTBEAT_TIMEOUT.toSeconds(), INSTANCE);
    say("  queue root %s", dir.resolve("state/queues"));
  }

  /** Prints a status line when the phase, the heartbeats or the number of files change. */
  private synchronized void show(DrainStatus s) {
    if (shown != null
        && shown.phase() == s.phase()
        && shown.heartbeats() == s.heartbeats()
        && shown.queues().totalFiles() == s.queues().totalFiles()
        && shown.lastError().equals(s.lastError())) {
      return;
    }
    shown = s;
    String extra =
        s.phase() == Phase.COMPLETED
            ? "  result " + s.result().map(Enum::name).orElse("-")
            : s.lastError().map(e -> "  last error: " + e).orElse("");
    say(
        "%-16s queued %9s in %d file(s)   heartbeats %d%s",
        s.phase(), size(s.queues().totalBytes()), s.queues().totalFiles(), s.heartbeats(), extra);
  }

  private synchronized void say(String format, Object... args) {
    if (json) {
      return;
    }
    double t = Duration.between(start, Instant.now()).toMillis() / 1000.0;
    out.printf("[%5.1fs] %s%n", t, String.format(format, args));
    out.flush();
  }

  private DrainStatus await(Agent agent, Predicate<DrainStatus> done, String what) {
    Instant giveUp = start.plus(SCENARIO_LIMIT);
    while (Instant.now().isBefore(giveUp)) {
      DrainStatus s = agent.status();
      if (done.test(s)) {
        return s;
      }
      pause(Duration.ofMillis(50));
    }
    throw new FatalException(
        "demo: timed out waiting until " + what + "; last status " + agent.status(), null);
  }

  private static void pause(Duration d) {
    Sleeper.REAL.sleep(d);
  }

  private String summary(DrainStatus end, String instanceState) throws JsonProcessingException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("result", end.result().map(Enum::name).orElse(null));
    m.put("phase", end.phase().name());
    m.put("heartbeats", end.heartbeats());
    m.put("bytesAtCompletion", end.bytesAtEnd());
    m.put(
        "drainedToCompleteMillis",
        end.emptySince()
            .flatMap(e -> end.endedAt().map(x -> Duration.between(e, x).toMillis()))
            .orElse(null));
    m.put(
        "heldMillis",
        end.actionActiveSince()
            .flatMap(a -> end.endedAt().map(x -> Duration.between(a, x).toMillis()))
            .orElse(null));
    m.put("quietPeriodMillis", 2000);
    m.put("instanceState", instanceState);
    m.put("scenario", scenario.name().toLowerCase().replace('_', '-'));
    m.put("elapsedMillis", Duration.between(start, Instant.now()).toMillis());
    return new ObjectMapper().writeValueAsString(m);
  }

  private static String size(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    if (bytes < 1024 * 1024) {
      return String.format("%.1f KiB", bytes / 1024.0);
    }
    return String.format("%.1f MiB", bytes / (1024.0 * 1024));
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("demo: could not remove " + dir, e);
    }
  }

  /** Accepts the scenario names in kebab case. */
  static final class ScenarioConverter implements picocli.CommandLine.ITypeConverter<Scenario> {
    @Override
    public Scenario convert(String value) {
      return Scenario.valueOf(value.strip().toUpperCase().replace('-', '_'));
    }
  }

  /** The scenario names for help and completion. */
  static final class ScenarioNames implements Iterable<String> {
    @Override
    public java.util.Iterator<String> iterator() {
      return Stream.of(Scenario.values())
          .map(s -> s.name().toLowerCase().replace('_', '-'))
          .iterator();
    }
  }
}
