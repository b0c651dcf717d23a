package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.drainguard.sim.Simulator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code drainguard run} as its own JVM, stopped with a real SIGTERM while it holds the action: the
 * action must stay open (the agent only stops), which is what systemd does on every stop, restart
 * and package upgrade.
 */
class SigtermTest {

  @TempDir Path dir;

  @Test
  void sigtermWhileHolding_stopsTheAgentAndLeavesTheActionOpen()
      throws IOException, InterruptedException {
    Files.write(dir.resolve("queued.pq"), new byte[100]);
    Path log = dir.resolve("agent.log");
    try (Simulator sim = Simulator.start(Clock.systemUTC())) {
      sim.addGroup("g");
      sim.addInstance("g", "i-1", "us-east-1", true);
      sim.addTerminationHook("g", "h", Duration.ofSeconds(30), "ABANDON");
      Path java = Path.of(System.getProperty("java.home"), "bin", "java");
      List<String> command =
          new java.util.ArrayList<>(
              List.of(
                  java.toString(),
                  "-Ddrainguard.loopbackOnly=true",
                  "-cp",
                  System.getProperty("java.class.path"),
                  Main.class.getName()));
      command.addAll(MainTest.runAgainst(sim, dir));
      ProcessBuilder pb =
          new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
      pb.environment().put("AWS_ACCESS_KEY_ID", "test");
      pb.environment().put("AWS_SECRET_ACCESS_KEY", "test");
      pb.environment().put("AWS_EC2_METADATA_DISABLED", "true");
      Process agent = pb.start();
      try {
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> !sim.calls("DescribeLifecycleHooks").isEmpty() || !agent.isAlive());
        sim.terminate("i-1");
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    !agent.isAlive()
                        || sim.calls("RecordLifecycleActionHeartbeat").stream()
                            .anyMatch(c -> c.httpStatus() == 200));
        assertThat(agent.isAlive()).as(Files.readString(log)).isTrue();
        // the accepted heartbeat's answer is taken in by the agent, not only sent
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> Files.readString(log).contains("lifecycle action active, holding"));

        agent.destroy(); // SIGTERM

        assertThat(agent.waitFor(30, TimeUnit.SECONDS)).isTrue();
      } finally {
        agent.destroyForcibly();
      }
      List<String> lines = Files.readAllLines(log);
      assertThat(agent.exitValue()).isEqualTo(143); // terminated by SIGTERM, hooks run
      assertThat(lines).anyMatch(l -> l.contains("agent stopped phase=HOLDING"));
      assertThat(sim.calls("CompleteLifecycleAction")).isEmpty();
      assertThat(sim.lifecycleState("i-1")).isEqualTo("Terminating:Wait");
    }
  }
}
