package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.drainguard.sim.ActionEnd;
import dev.drainguard.sim.ApiCall;
import dev.drainguard.sim.Simulator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code drainguard run} as its own JVM (with the launcher's JVM options), killed with SIGKILL
 * while it holds the action: no shutdown hook runs, nothing is sent, the action stays open; a new
 * agent started after it (as systemd's {@code Restart=} does) finds the action, holds it and
 * completes it once the queue drains.
 */
class SigkillFaultTest {

  static final String GROUP = "g";
  static final String INSTANCE = "i-1";
  static final String HEARTBEAT = "RecordLifecycleActionHeartbeat";
  static final String COMPLETE = "CompleteLifecycleAction";

  /** The same JVM options as the packaged launcher gives {@code run}. */
  static final List<String> LAUNCHER_JVM_OPTIONS =
      List.of(
          "-XX:+UseSerialGC",
          "-XX:TieredStopAtLevel=1",
          "-Xss512k",
          "-Xms8m",
          "-Xmn2m",
          "-Xmx256m",
          "-XX:MinHeapFreeRatio=10",
          "-XX:MaxHeapFreeRatio=30",
          "-XX:+ExitOnOutOfMemoryError");

  static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;

  /** One {@code drainguard run} process, its output in a log file. */
  record AgentProcess(Process process, Path log) implements AutoCloseable {

    /**
     * Starts {@code java … Main args} behind {@code prefix} (e.g. {@code unshare …}), with the
     * given class path.
     */
    static AgentProcess start(List<String> prefix, String classpath, List<String> args, Path log)
        throws IOException {
      List<String> command = new ArrayList<>(prefix);
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.addAll(LAUNCHER_JVM_OPTIONS);
      command.addAll(List.of("-Ddrainguard.loopbackOnly=true", "-cp", classpath));
      command.add(Main.class.getName());
      command.addAll(args);
      ProcessBuilder pb =
          new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
      pb.environment().put("AWS_ACCESS_KEY_ID", "test");
      pb.environment().put("AWS_SECRET_ACCESS_KEY", "test");
      pb.environment().put("AWS_EC2_METADATA_DISABLED", "true");
      return new AgentProcess(pb.start(), log);
    }

    static AgentProcess start(List<String> args, Path log) throws IOException {
      return start(List.of(), System.getProperty("java.class.path"), args, log);
    }

    String output() {
      try {
        return Files.readString(log);
      } catch (IOException e) {
        return "(no log: " + e + ")";
      }
    }

    @Override
    public void close() {
      process.destroyForcibly();
    }
  }

  /** {@code run} against the simulator with the given queue root and control socket. */
  static List<String> runArgs(Simulator sim, Path queueRoot, Path socket, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "run",
                "--imds-endpoint",
                sim.imdsEndpoint().toString(),
                "--autoscaling-endpoint",
                sim.autoScalingEndpoint().toString(),
                "--imds-poll-interval",
                "1s",
                "--quiet-period",
                "1s",
                "--queue-root",
                queueRoot.toString(),
                "--control-socket",
                socket.toString()));
    args.addAll(List.of(more));
    return args;
  }

  static long accepted(Simulator sim) {
    return sim.calls(HEARTBEAT).stream().filter(ApiCall::succeeded).count();
  }

  @Test
  void sigkillWhileHolding_leavesTheActionOpen_andTheRestartedAgentCompletesItAfterTheDrain()
      throws IOException, InterruptedException {
    Path queue = Files.createDirectories(dir.resolve("queues/0/out-s3"));
    Path file = Files.write(queue.resolve("00001.pq"), new byte[100]);
    Path socket = dir.resolve("control.sock");
    try (Simulator sim = Simulator.start(Clock.systemUTC())) {
      sim.addGroup(GROUP);
      sim.addInstance(GROUP, INSTANCE, "us-east-1", true);
      // HeartbeatTimeout 30 s: the shortest Auto Scaling allows; heartbeats every 10 s.
      sim.addTerminationHook(GROUP, "h", Duration.ofSeconds(30), "ABANDON");
      List<String> args = runArgs(sim, dir.resolve("queues"), socket);

      try (AgentProcess first = AgentProcess.start(args, dir.resolve("first.log"))) {
        await().atMost(WAIT).until(() -> !sim.calls("DescribeLifecycleHooks").isEmpty());
        sim.terminate(INSTANCE);
        await().atMost(WAIT).until(() -> accepted(sim) > 0 || !first.process().isAlive());
        assertThat(first.process().isAlive()).as(first.output()).isTrue();

        first.process().destroyForcibly(); // SIGKILL: no shutdown hook, no last word

        assertThat(first.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(first.process().exitValue()).isEqualTo(137);
        assertThat(first.output()).doesNotContain("agent stopped");
      }
      assertThat(sim.calls(COMPLETE)).isEmpty();
      assertThat(sim.lifecycleState(INSTANCE)).isEqualTo("Terminating:Wait");
      long beforeRestart = accepted(sim);

      // The dead agent's control socket is still on disk: the new one must take its place.
      try (AgentProcess second = AgentProcess.start(args, dir.resolve("second.log"))) {
        await()
            .atMost(WAIT)
            .until(() -> accepted(sim) > beforeRestart || !second.process().isAlive());
        assertThat(second.process().isAlive()).as(second.output()).isTrue();
        assertThat(sim.actionEnd(INSTANCE)).as("the action outlived the kill").isEmpty();

        Files.delete(file);
        await()
            .atMost(WAIT)
            .until(() -> sim.actionEnd(INSTANCE).isPresent() || !second.process().isAlive());

        assertThat(sim.actionEnd(INSTANCE))
            .as(second.output())
            .hasValueSatisfying(
                e -> {
                  assertThat(e.kind()).isEqualTo(ActionEnd.Kind.COMPLETED);
                  assertThat(e.result()).isEqualTo("CONTINUE");
                });
        assertThat(sim.calls(COMPLETE)).hasSize(1);
        await()
            .atMost(WAIT)
            .until(() -> second.output().contains("lifecycle action completed result=CONTINUE"));
      }
    }
  }
}
