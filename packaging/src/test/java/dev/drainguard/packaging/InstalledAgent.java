package dev.drainguard.packaging;

import static org.awaitility.Awaitility.await;

import dev.drainguard.sim.Simulator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The DEB's files unpacked into a throwaway root, and {@code drainguard run} started by the
 * installed launcher against the simulator on loopback: one group, one instance, a termination hook
 * with the shortest HeartbeatTimeout Auto Scaling allows (30 s), and one queue root. Status and the
 * maintainer scripts read the agent's socket from the same config file.
 */
final class InstalledAgent implements AutoCloseable {

  static final String GROUP = "workers";
  static final String INSTANCE = "i-0123456789abcdef0";
  static final String HOOK = "hold-queues";

  /** Start-up, a heartbeat round and the quiet period all fit well inside this. */
  static final Duration WAIT = Duration.ofSeconds(60);

  final Path root;
  final Path work;
  final Simulator sim;
  final Map<String, String> env;

  /** The queue directory under the agent's queue root, empty at first. */
  final Path queue;

  private Process agent;
  private Path log;
  private int starts;

  /** Unpacks the package into {@code root}, starts the simulator and writes the config. */
  InstalledAgent(Path root, Path work) {
    this(root, work, new String[0]);
  }

  /** As {@link #InstalledAgent(Path, Path)}, with more lines for the config file. */
  InstalledAgent(Path root, Path work, String... moreConfig) {
    this.root = Pkg.extractDeb(root);
    this.work = work;
    this.sim = Simulator.start(Clock.systemUTC());
    sim.addGroup(GROUP);
    sim.addInstance(GROUP, INSTANCE, "us-east-1", true);
    sim.addTerminationHook(GROUP, HOOK, Duration.ofSeconds(30), "ABANDON");
    try {
      this.queue = Files.createDirectories(work.resolve("queues/0/out-s3"));
    } catch (IOException e) {
      sim.close();
      throw new UncheckedIOException(e);
    }
    Path config =
        Pkg.write(
            work.resolve("drainguard.conf"),
            String.join(
                "\n",
                "loopback-only = true",
                "imds-endpoint = " + sim.imdsEndpoint(),
                "autoscaling-endpoint = " + sim.autoScalingEndpoint(),
                "region = us-east-1",
                "queue-root = " + queue.getParent().getParent(),
                "control-socket = " + work.resolve("run/control.sock"),
                "quiet-period = 1s",
                "heartbeat-interval = 2s",
                "imds-poll-interval = 1s",
                "imds-startup-timeout = 20s",
                "action-grace = 1m",
                String.join("\n", moreConfig),
                ""));
    env = Pkg.baseEnv();
    // status, and the maintainer's status calls, read the socket from this config
    env.put("DRAINGUARD_CONFIG", config.toString());
    env.put("AWS_ACCESS_KEY_ID", "test");
    env.put("AWS_SECRET_ACCESS_KEY", "test");
    env.put("AWS_EC2_METADATA_DISABLED", "true");
  }

  Path launcher() {
    return root.resolve("usr/bin/drainguard");
  }

  /** Starts {@code drainguard run} with the installed launcher, its output in agent-N.log. */
  Process start() {
    return start(List.of());
  }

  /**
   * As {@link #start()}, the launcher run by {@code prefix} (e.g. {@code setpriv --reuid=...} to
   * run the agent as another user).
   */
  Process start(List<String> prefix) {
    starts++;
    log = work.resolve("agent-" + starts + ".log");
    List<String> cmd = new java.util.ArrayList<>(prefix);
    cmd.add(launcher().toString());
    cmd.add("run");
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().clear();
    pb.environment().putAll(env);
    try {
      agent = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
    } catch (IOException e) {
      throw new UncheckedIOException("starting " + launcher() + " run", e);
    }
    return agent;
  }

  Process process() {
    return agent;
  }

  /** Stops the agent as systemd would (SIGTERM) and waits for it; the simulator keeps running. */
  void stop() throws InterruptedException {
    agent.destroy();
    if (!agent.waitFor(30, TimeUnit.SECONDS)) {
      agent.destroyForcibly();
      throw new AssertionError("the agent did not stop within 30 s after SIGTERM");
    }
  }

  /** The exit code of {@code drainguard status}: 0 in service, 10 holding, 11 over. */
  int status() {
    return Pkg.run(env, launcher().toString(), "status").exit();
  }

  void awaitStatus(int code) {
    await(String.format("drainguard status exits %d; agent log:%n%s", code, log()))
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(500))
        .until(() -> agent.isAlive() && status() == code);
  }

  /** The output of the agent started last. */
  String log() {
    return log != null && Files.exists(log) ? Pkg.read(log) : "";
  }

  @Override
  public void close() throws InterruptedException {
    if (agent != null) {
      agent.destroy();
      agent.waitFor(30, TimeUnit.SECONDS);
      agent.destroyForcibly();
    }
    sim.close();
  }
}
