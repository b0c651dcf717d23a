package dev.drainguard.cli;

import dev.drainguard.check.Check;
import dev.drainguard.check.CheckSettings;
import dev.drainguard.check.Checks;
import dev.drainguard.check.Report;
import dev.drainguard.config.AgentConfig;
import dev.drainguard.config.ConfigException;
import dev.drainguard.config.ConfigLoader;
import dev.drainguard.imds.HttpInstanceMetadata;
import dev.drainguard.lifecycle.QueryLifecycleActions;
import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.net.RetryPolicy;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code drainguard check}: is this install ready? One PASS, WARN, FAIL or SKIP line per check,
 * each problem with its fix, then a summary; exit 0 when nothing FAILed.
 */
@Command(
    name = "check",
    mixinStandardHelpOptions = true,
    header = "Check that this install is ready, as drainguard run would see it.",
    description = {
      "Check a new install with the settings drainguard run would use: the",
      "configuration, IMDS (IMDSv2), the instance's Auto Scaling group, the",
      "termination hook, the Auto Scaling API and the role's permission to call it,",
      "the queue roots and what their rules count and ignore, the inotify watch",
      "limit, the probes, and the quiet period against the probe interval.",
      "Only describe calls are made; --probe-heartbeat adds one heartbeat, which",
      "Auto Scaling refuses with 'No active Lifecycle Action' while the instance is",
      "in service."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:no check failed (warnings allowed)",
      "1:a check failed, including a configuration that does not load",
      "2:usage error"
    })
final class CheckCommand implements Callable<Integer> {

  /**
   * IMDS and Auto Scaling answer in milliseconds: one retry covers a lost packet, and a service
   * that is not there fails its line within seconds instead of after the agent's startup timeout.
   */
  static final RetryPolicy RETRY =
      new RetryPolicy(2, Duration.ofMillis(250), Duration.ofMillis(250));

  @Spec CommandSpec spec;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description =
          "Config file. Default: $DRAINGUARD_CONFIG, else /etc/drainguard/drainguard.conf when it"
              + " exists.")
  Path config;

  @Option(
      names = "--probe-heartbeat",
      arity = "0..1",
      paramLabel = "BOOL",
      description =
          "Also send one RecordLifecycleActionHeartbeat to prove the role may call it (skipped"
              + " while the instance is being terminated).")
  boolean probeHeartbeat;

  @Option(
      names = "--json",
      arity = "0..1",
      paramLabel = "BOOL",
      description = "Print the results as one JSON object instead.")
  boolean json;

  /** Where {@code fs.inotify.max_user_watches} is read; tests point it at a file of their own. */
  Path maxUserWatches = Checks.MAX_USER_WATCHES;

  /** The environment the settings and CRIBL_HOME are read from; tests give their own. */
  Map<String, String> env = System.getenv();

  @Override
  public Integer call() {
    List<Check> results = check(env);
    spec.commandLine().getOut().print(json ? Report.json(results) + "\n" : Report.text(results));
    spec.commandLine().getOut().flush();
    return Report.anyFailed(results) ? ExitCodes.FAILURE : ExitCodes.OK;
  }

  private List<Check> check(Map<String, String> env) {
    AgentConfig cfg;
    try {
      cfg = new ConfigLoader(SettingOptions.given(spec), env, Optional.ofNullable(config)).load();
    } catch (ConfigException e) {
      return Checks.configFailed(e.getMessage());
    }
    // the adapters log at INFO what the report already says; keep the terminal to the report
    Logging.setLevel(List.of("debug", "trace").contains(cfg.logLevel()) ? cfg.logLevel() : "warn");
    LoopbackGuard guard = LoopbackGuard.of(cfg.loopbackOnly());
    Deque<AutoCloseable> opened = new ArrayDeque<>();
    CheckSettings settings = settings(cfg, env, guard);
    try {
      return new Checks(
              settings,
              () ->
                  opened(
                      opened,
                      new HttpInstanceMetadata(
                          settings.imdsEndpoint(), guard, RETRY, ThreadSleeper.INSTANCE)),
              region ->
                  opened(
                      opened,
                      new QueryLifecycleActions(
                          region,
                          settings.autoScalingEndpoint().apply(region),
                          Credentials.provider(settings.imdsEndpoint(), guard),
                          guard,
                          RETRY,
                          ThreadSleeper.INSTANCE)))
          .run();
    } finally {
      for (AutoCloseable c : opened) {
        try {
          c.close();
        } catch (Exception e) {
          // closing a client after a check cannot change the report
        }
      }
    }
  }

  private static <T extends AutoCloseable> T opened(Deque<AutoCloseable> opened, T c) {
    opened.push(c);
    return c;
  }

  private CheckSettings settings(AgentConfig cfg, Map<String, String> env, LoopbackGuard guard) {
    String fromEnv =
        env.keySet().stream()
            .filter(k -> k.startsWith("DRAINGUARD_"))
            .sorted()
            .collect(Collectors.joining(", "));
    String source =
        "settings valid ("
            + cfg.configFile().map(f -> "file " + f).orElse("no config file")
            + (fromEnv.isEmpty() ? "" : "; environment " + fromEnv)
            + ")";
    return new CheckSettings(
        source,
        cfg.endpoints().imds(),
        cfg.endpoints()::autoScaling,
        cfg.region(),
        cfg.groupName(),
        cfg.groupFromTags(),
        cfg.hookName(),
        cfg.heartbeatInterval(),
        cfg.deadlineMargin(),
        cfg.queueRoots(),
        AgentParts.probes(cfg, guard, Clock.systemUTC()),
        cfg.drainedWhen(),
        cfg.quietPeriod(),
        cfg.probeInterval(),
        probeHeartbeat,
        maxUserWatches,
        System.getProperty("user.name"),
        cfg.criblHome(),
        cfg.queueRootAuto());
  }
}
