package dev.drainguard.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drainguard.sim.Simulator;
import dev.drainguard.status.ControlClient;
import dev.drainguard.status.ControlProtocol;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One {@code drainguard run} started by the packaged launcher, pointed at a simulator on 127.0.0.1
 * with loopback-only mode on (the setting and the JVM-wide property both), test credentials and the
 * instance-metadata credential lookup of the SDK disabled.
 */
final class AgentProcess implements AutoCloseable {

  /** Start-up, even on a loaded machine, is far inside this; past it the agent is broken. */
  static final Duration READY_LIMIT = Duration.ofSeconds(60);

  /** Every agent started and not yet stopped: killed if the bench itself stops early. */
  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(() -> LIVE.forEach(Process::destroyForcibly), "bench-kill-agents"));
  }

  /** Kills {@code p} if the bench stops before it does. */
  static Process track(Process p) {
    LIVE.add(p);
    p.onExit().thenRun(() -> LIVE.remove(p));
    return p;
  }

  private final Process process;
  private final Path socket;
  private final Path log;
  private final long startedNanos;
  private long readyNanos;

  private AgentProcess(Process process, Path socket, Path log, long startedNanos) {
    this.process = process;
    this.socket = socket;
    this.log = log;
    this.startedNanos = startedNanos;
  }

  /**
   * The environment of an agent (and of {@code drainguard status} asking it): every setting given
   * as {@code DRAINGUARD_*}, as a systemd drop-in would.
   */
  static Map<String, String> env(
      Simulator sim, Path dir, Path queueRoot, Map<String, String> settings) throws IOException {
    Map<String, String> env = new HashMap<>();
    System.getenv()
        .forEach(
            (k, v) -> {
              if (!k.startsWith("DRAINGUARD_")
                  && !k.startsWith("AWS_")
                  && !k.equals("MALLOC_ARENA_MAX")) {
                env.put(k, v);
              }
            });
    env.put("JAVA_HOME", System.getProperty("java.home"));
    env.put("AWS_ACCESS_KEY_ID", "test");
    env.put("AWS_SECRET_ACCESS_KEY", "test");
    env.put("AWS_EC2_METADATA_DISABLED", "true");
    env.put("DRAINGUARD_JAVA_OPTS", "-Ddrainguard.loopbackOnly=true");
    env.put("DRAINGUARD_CONFIG", Files.writeString(dir.resolve("empty.conf"), "").toString());
    env.put("DRAINGUARD_LOOPBACK_ONLY", "true");
    env.put("DRAINGUARD_IMDS_ENDPOINT", sim.imdsEndpoint().toString());
    env.put("DRAINGUARD_AUTOSCALING_ENDPOINT", sim.autoScalingEndpoint().toString());
    env.put("DRAINGUARD_IMDS_STARTUP_TIMEOUT", "30s");
    env.put("DRAINGUARD_QUEUE_ROOT", queueRoot.toString());
    env.put("DRAINGUARD_CONTROL_SOCKET", dir.resolve("control.sock").toString());
    settings.forEach((k, v) -> env.put("DRAINGUARD_" + k, v));
    return env;
  }

  static AgentProcess start(Packaged pkg, Map<String, String> env, Path dir) throws IOException {
    Path socket = Path.of(env.get("DRAINGUARD_CONTROL_SOCKET"));
    Path log = dir.resolve("agent.log");
    ProcessBuilder pb = new ProcessBuilder(pkg.launcher().toString(), "run");
    pb.environment().clear();
    pb.environment().putAll(env);
    long started = System.nanoTime();
    Process p = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
    return new AgentProcess(track(p), socket, log, started);
  }

  /**
   * Waits until the control socket answers a status request, as the systemd unit's readiness check
   * does; returns the time from the launcher's start.
   */
  Duration awaitReady() {
    ControlClient client = new ControlClient(socket, Duration.ofSeconds(2));
    long giveUp = startedNanos + READY_LIMIT.toNanos();
    while (true) {
      if (Files.exists(socket)) {
        try {
          ControlProtocol.Reply reply =
              client.send(ControlProtocol.Request.of(ControlProtocol.Op.STATUS, null, false));
          if (reply.ok()) {
            readyNanos = System.nanoTime();
            return Duration.ofNanos(readyNanos - startedNanos);
          }
        } catch (ControlClient.UnreachableException notYet) {
          // the socket file exists a moment before the server accepts on it
        }
      }
      if (!process.isAlive() || System.nanoTime() - giveUp > 0) {
        throw new IllegalStateException(
            "agent not ready (alive=" + process.isAlive() + "); log " + log + ":\n" + output());
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
  }

  long pid() {
    return process.pid();
  }

  boolean alive() {
    return process.isAlive();
  }

  String output() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /** Wall time and CPU time (user + system, every thread) of one command. */
  record Timed(Duration wall, Duration cpu) {}

  /**
   * Runs the packaged {@code drainguard status} with the same environment, under bash's {@code
   * time}: its wall time and its CPU time, which a loaded machine inflates less than the wall time.
   */
  static Timed timeStatus(Packaged pkg, Map<String, String> env, Path dir)
      throws IOException, InterruptedException {
    return time(List.of(pkg.launcher().toString(), "status"), env, dir);
  }

  /** Runs {@code cmd} under bash's {@code time} with exactly {@code env}; it must exit 0. */
  static Timed time(List<String> cmd, Map<String, String> env, Path dir)
      throws IOException, InterruptedException {
    return time(cmd, env, dir, 0);
  }

  /** As above; it must exit {@code expected} (1 for a refused release: still a real exchange). */
  static Timed time(List<String> cmd, Map<String, String> env, Path dir, int expected)
      throws IOException, InterruptedException {
    Path out = dir.resolve("timed.out");
    Path times = dir.resolve("timed.time");
    List<String> argv = new ArrayList<>();
    argv.addAll(
        List.of(
            "bash",
            "-c",
            "TIMEFORMAT='%3R %3U %3S'; { time \"${@:3}\" >\"$1\" 2>&1 ; } 2>\"$2\"",
            "bash",
            out.toString(),
            times.toString()));
    argv.addAll(cmd);
    ProcessBuilder pb = new ProcessBuilder(argv);
    pb.environment().clear();
    pb.environment().putAll(env);
    Process p = pb.start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(cmd + " did not end within 60 s");
    }
    if (p.exitValue() != expected) {
      throw new IllegalStateException(
          cmd + " exited " + p.exitValue() + ": " + Files.readString(out));
    }
    String[] f = Files.readString(times).trim().split("\\s+");
    return new Timed(seconds(f[0]), seconds(f[1]).plus(seconds(f[2])));
  }

  /**
   * The decision thread's wake-ups since the agent started, as the packaged {@code drainguard
   * status --json} reports them (field {@code decisionWakeups}). The request itself is answered on
   * the decision thread, so it counts one wake-up, included in the figure it returns.
   */
  static long decisionWakeups(Packaged pkg, Map<String, String> env)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(pkg.launcher().toString(), "status", "--json");
    pb.environment().clear();
    pb.environment().putAll(env);
    Process p = pb.redirectErrorStream(false).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IllegalStateException(
          "drainguard status --json failed: " + new String(p.getErrorStream().readAllBytes()));
    }
    JsonNode n = new ObjectMapper().readTree(out).path("decisionWakeups");
    if (!n.canConvertToLong()) {
      throw new IllegalStateException(
          "drainguard status --json has no decisionWakeups: " + new String(out));
    }
    return n.asLong();
  }

  private static Duration seconds(String s) {
    return Duration.ofNanos(Math.round(Double.parseDouble(s) * 1e9));
  }

  /** SIGTERM, as systemd stops it (it never completes anything on stop); SIGKILL after 20 s. */
  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }

  /** SIGKILL without waiting: for an agent whose drain has ended, between reaction trials. */
  void kill() {
    process.destroyForcibly();
  }
}
