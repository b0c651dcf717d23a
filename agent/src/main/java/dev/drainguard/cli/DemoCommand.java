package dev.drainguard.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drainguard.aws.AwsCredentials;
import dev.drainguard.aws.CredentialsProvider;
import dev.drainguard.config.AgentConfig;
import dev.drainguard.config.ConfigLoader;
import dev.drainguard.config.Setting;
import dev.drainguard.drain.DrainStatus;
import dev.drainguard.sim.Simulator;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code drainguard demo}: a termination path rehearsed on this machine. The real agent runs
 * against the built-in simulator of IMDS and Auto Scaling on 127.0.0.1, with a temporary queue that
 * a writer fills and a consumer drains; nothing leaves the machine.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    header = "Rehearse a scale-in on this machine against a built-in simulator.",
    description = {
      "Rehearse a termination path on this machine: the real agent against the",
      "built-in simulator of IMDS and Auto Scaling on 127.0.0.1, with a temporary",
      "queue that fills and then drains. The last line of stdout is a JSON summary."
    })
final class DemoCommand implements Callable<Integer> {

  /** The scenarios the demo can play. */
  enum Scenario {
    /** Scale-in while the queue holds data; the destination recovers; CONTINUE. */
    SCALE_IN,
    /** The destination stays down past the deadline: retained, then terminated when drained. */
    RETENTION,
    /** A busy worker is protected from scale-in; Auto Scaling takes an idle one. */
    PROTECTION,
    /** Spot rebalance and interruption notices: the flush command runs once for each. */
    SPOT,
    /** The queue drains too slowly for max-hold: the forecast warns before the deadline. */
    AT_RISK;

    String label() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  static final String GROUP = "cribl-workers";
  static final String HOOK = "drainguard-drain";
  static final String INSTANCE = "i-0d3m0c0ffee000001";
  static final String REGION = "us-east-1";

  /** Shortest HeartbeatTimeout Auto Scaling accepts: heartbeats show within seconds. */
  static final Duration HEARTBEAT_TIMEOUT = Duration.ofSeconds(30);

  /** A short load balancer deregistration, so "not active yet" is seen and retried. */
  static final Duration DEREGISTRATION = Duration.ofSeconds(3);

  static final Duration QUIET = Duration.ofSeconds(2);

  /** The shortest max-hold: the retention scenario's stand-in for the 48 h global timeout. */
  static final String RETENTION_MAX_HOLD = "1m";

  /** The at-risk scenario's max-hold: shorter than its slow consumer needs. */
  static final String AT_RISK_MAX_HOLD = "1m";

  /** The at-risk scenario's consumer: one file every 10 s, 80 s for the whole queue. */
  static final Duration SLOW_CONSUME_EVERY = Duration.ofSeconds(10);

  static final int FILES = 8;
  static final int FILE_BYTES = 256 * 1024;
  static final Duration CONSUME_EVERY = Duration.ofMillis(700);

  /** The longest scenario (retention) takes about 80 s; this bounds a broken run. */
  static final Duration SCENARIO_LIMIT = Duration.ofSeconds(180);

  /** The agent's own log (stderr) shows warnings and errors; the narration is on stdout. */
  static final String DEMO_LOG_LEVEL = "warn";

  @Spec CommandSpec spec;

  @Option(
      names = "--json",
      arity = "0..1",
      paramLabel = "BOOL",
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

  private PrintWriter out;
  private Instant start;
  private DrainStatus shown;
  private final List<String> phasesSeen = new ArrayList<>();

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
      if (scenario == Scenario.RETENTION) {
        sim.setRetainOnTerminateHookAbandon(GROUP, true);
      }
      if (scenario == Scenario.PROTECTION) {
        sim.addInstance(GROUP, DemoScenarios.IDLE_INSTANCE, REGION, true);
      }
      if (scenario == Scenario.SPOT) {
        sim.setPurchasingOption(INSTANCE, "spot"); // notices come to spot instances only
      }
      AgentConfig cfg = config(sim, dir);
      header(sim, dir);
      try (Agent agent =
          Agent.start(
              cfg,
              CredentialsProvider.fixed(AwsCredentials.of("demo", "demo", "fixed demo keys")),
              clock,
              ThreadSleeper.INSTANCE,
              this::show)) {
        DemoScenarios scenarios = new DemoScenarios(this, sim, agent, queue, dir);
        DemoScenarios.Outcome outcome =
            switch (scenario) {
              case SCALE_IN -> scenarios.scaleIn();
              case RETENTION -> scenarios.retention();
              case PROTECTION -> scenarios.protection();
              case SPOT -> scenarios.spot();
              case AT_RISK -> scenarios.atRisk();
            };
        say(outcome.ok() ? "done: " + promise() : "FAILED: the scenario did not end as it should");
        out.println(summary(outcome));
        out.flush();
        return outcome.ok() ? ExitCodes.OK : ExitCodes.FAILURE;
      }
    } finally {
      deleteTree(dir);
    }
  }

  private String promise() {
    return switch (scenario) {
      case SCALE_IN -> "no queued byte was lost";
      case RETENTION -> "kept past the deadline, terminated with nothing queued";
      case PROTECTION -> "the busy worker was never chosen for scale-in";
      case SPOT -> "the flush command ran once for each notice";
      case AT_RISK -> "the forecast said what the deadline would leave, before it came";
    };
  }

  private AgentConfig config(Simulator sim, Path dir) {
    Map<Setting, List<String>> flags = new EnumMap<>(Setting.class);
    flags.put(Setting.CONTROL_SOCKET, List.of(dir.resolve("control.sock").toString()));
    flags.put(Setting.QUEUE_ROOT, List.of(dir.resolve("state/queues").toString()));
    flags.put(Setting.IMDS_ENDPOINT, List.of(sim.imdsEndpoint().toString()));
    flags.put(Setting.AUTOSCALING_ENDPOINT, List.of(sim.autoScalingEndpoint().toString()));
    flags.put(Setting.LOOPBACK_ONLY, List.of("true"));
    flags.put(Setting.QUIET_PERIOD, List.of(QUIET.toSeconds() + "s"));
    flags.put(Setting.HEARTBEAT_INTERVAL, List.of("2s"));
    flags.put(Setting.IMDS_POLL_INTERVAL, List.of("1s"));
    flags.put(Setting.IMDS_STARTUP_TIMEOUT, List.of("10s"));
    flags.put(Setting.ACTION_GRACE, List.of("1m"));
    flags.put(Setting.LOG_LEVEL, List.of(DEMO_LOG_LEVEL));
    switch (scenario) {
      case RETENTION -> {
        flags.put(Setting.DEADLINE_POLICY, List.of("retain"));
        flags.put(Setting.MAX_HOLD, List.of(RETENTION_MAX_HOLD));
        flags.put(Setting.HEARTBEAT_INTERVAL, List.of("5s"));
      }
      case PROTECTION -> {
        flags.put(Setting.PROTECT_WHILE_BUSY, List.of("true"));
        flags.put(Setting.PROTECT_AFTER, List.of("3s"));
        flags.put(Setting.PROTECT_INTERVAL, List.of("10s"));
      }
      case SPOT ->
          flags.put(Setting.ON_TERMINATION_COMMAND, List.of(DemoScenarios.flushCommand(dir)));
      case AT_RISK -> {
        flags.put(Setting.DEADLINE_POLICY, List.of("expire"));
        flags.put(Setting.MAX_HOLD, List.of(AT_RISK_MAX_HOLD));
      }
      case SCALE_IN -> {}
    }
    return new ConfigLoader(flags, Map.of(), Optional.empty()).loadWithoutFile();
  }

  private void header(Simulator sim, Path dir) {
    say(
        "drainguard demo, scenario %s: the real agent against simulated IMDS and Auto Scaling",
        scenario.label());
    say("  imds %s, auto scaling %s", sim.imdsEndpoint(), sim.autoScalingEndpoint());
    say(
        "  group %s, hook %s (HeartbeatTimeout %ss, DefaultResult ABANDON), instance %s",
        GROUP, HOOK, HEARTBEAT_TIMEOUT.toSeconds(), INSTANCE);
    say("  queue root %s", dir.resolve("state/queues"));
  }

  /** Prints a status line when the phase, heartbeats, files, protection or error change. */
  private synchronized void show(DrainStatus s) {
    if (phasesSeen.isEmpty() || !phasesSeen.get(phasesSeen.size() - 1).equals(s.phase().name())) {
      phasesSeen.add(s.phase().name());
    }
    if (shown != null
        && shown.phase() == s.phase()
        && shown.heartbeats() == s.heartbeats()
        && shown.queues().totalFiles() == s.queues().totalFiles()
        && shown.scaleInProtected() == s.scaleInProtected()
        && shown.lastError().equals(s.lastError())) {
      return;
    }
    shown = s;
    String extra =
        s.phase().terminal()
            ? "  result " + s.result().map(Enum::name).orElse("none")
            : s.lastError().map(e -> "  last error: " + e).orElse("");
    say(
        "%-16s queued %9s in %d file(s)   heartbeats %d%s%s",
        s.phase(),
        size(s.queues().totalBytes()),
        s.queues().totalFiles(),
        s.heartbeats(),
        s.scaleInProtected() ? "   protected from scale-in" : "",
        extra);
  }

  synchronized void say(String format, Object... args) {
    if (json) {
      return;
    }
    double t = Duration.between(start, Instant.now()).toMillis() / 1000.0;
    out.printf("[%5.1fs] %s%n", t, String.format(format, args));
    out.flush();
  }

  DrainStatus await(Agent agent, Predicate<DrainStatus> done, String what) {
    Instant giveUp = start.plus(SCENARIO_LIMIT);
    while (Instant.now().isBefore(giveUp)) {
      DrainStatus s = agent.status();
      if (done.test(s)) {
        return s;
      }
      pause(Duration.ofMillis(50));
    }
    throw new FatalException(
        "demo: timed out waiting for " + what + "; last status " + agent.status(), null);
  }

  void pause(Duration d) {
    ThreadSleeper.INSTANCE.sleep(d);
  }

  private synchronized String summary(DemoScenarios.Outcome o) throws JsonProcessingException {
    DrainStatus end = o.end();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("result", end.result().map(Enum::name).orElse(null));
    m.put("phase", end.phase().name());
    m.put("heartbeats", end.heartbeats());
    m.put(
        "bytesAtCompletion", end.phase().terminal() ? end.bytesAtEnd() : end.queues().totalBytes());
    m.putAll(o.summary());
    m.put("phasesSeen", List.copyOf(phasesSeen));
    m.put("scenario", scenario.label());
    m.put("elapsedMillis", Duration.between(start, Instant.now()).toMillis());
    return new ObjectMapper().writeValueAsString(m);
  }

  static String size(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    if (bytes < 1024 * 1024) {
      return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
    }
    return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
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
      return Scenario.valueOf(value.strip().toUpperCase(Locale.ROOT).replace('-', '_'));
    }
  }

  /** The scenario names for help and completion. */
  static final class ScenarioNames implements Iterable<String> {
    @Override
    public java.util.Iterator<String> iterator() {
      return Stream.of(Scenario.values()).map(Scenario::label).iterator();
    }
  }
}
