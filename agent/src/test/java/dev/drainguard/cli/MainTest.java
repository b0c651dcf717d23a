package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drainguard.sim.Simulator;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The command line through its real entry point, {@link DrainguardCommand#commandLine()}. */
class MainTest {

  @TempDir Path dir;

  record Run(int code, String out, String err) {}

  static Run execute(String... args) {
    return execute(DrainguardCommand.commandLine(), args);
  }

  static Run execute(CommandLine cl, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  /** {@code run} against the simulator, with the queue root and control socket in {@code dir}. */
  static List<String> runAgainst(Simulator sim, Path dir) {
    return List.of(
        "run",
        "--imds-endpoint",
        sim.imdsEndpoint().toString(),
        "--autoscaling-endpoint",
        sim.autoScalingEndpoint().toString(),
        "--imds-poll-interval",
        "1s",
        "--queue-root",
        dir.toString(),
        "--control-socket",
        dir.resolve("control.sock").toString());
  }

  @Test
  void version_printsTheVersionAndExitsZero() {
    Run r = execute("--version");
    assertThat(r.code()).isZero();
    assertThat(r.out()).startsWith("drainguard " + Version.get());
    assertThat(Version.get()).doesNotContain("${").isNotEqualTo("unknown");
  }

  @Test
  void noCommandOrAnUnknownOption_isAUsageError() {
    assertThat(execute().code()).isEqualTo(ExitCodes.USAGE);
    assertThat(execute("run", "--no-such-option").code()).isEqualTo(ExitCodes.USAGE);
    assertThat(execute("frobnicate").code()).isEqualTo(ExitCodes.USAGE);
  }

  @Test
  void runHelp_listsEverySettingWithItsEnvironmentVariable() {
    Run r = execute("run", "--help");
    assertThat(r.code()).isZero();
    for (var s : dev.drainguard.config.Setting.values()) {
      assertThat(r.out()).contains(s.flag()).contains(s.env());
    }
  }

  @Test
  void anInvalidValue_exits78WithOneLineNamingTheOption() {
    Run r = execute("run", "--quiet-period", "soon");
    assertThat(r.code()).isEqualTo(ExitCodes.CONFIG);
    assertThat(r.err().strip())
        .doesNotContain("\n")
        .contains("--quiet-period")
        .contains("0s to 1h");
  }

  @Test
  void theRealImdsAddress_isRefusedInLoopbackOnlyMode_withExit78() {
    // guards against any test, or a misconfigured rehearsal, reaching the real metadata service
    Run r = execute("run", "--imds-endpoint", "http://169.254.169.254", "--loopback-only", "true");
    assertThat(r.code()).isEqualTo(ExitCodes.CONFIG);
    assertThat(r.err()).contains("loopback-only mode refused the IMDS endpoint");
  }

  @Test
  void unreachableImds_exits1WithOneLineSayingHowToPointItElsewhere() throws IOException {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    Run r =
        execute(
            "run",
            "--imds-endpoint",
            "http://127.0.0.1:" + closedPort,
            "--imds-startup-timeout",
            "0s",
            "--queue-root",
            dir.toString(),
            "--control-socket",
            dir.resolve("control.sock").toString());
    assertThat(r.code()).isEqualTo(ExitCodes.FAILURE);
    assertThat(r.err().strip())
        .doesNotContain("\n")
        .contains("did not answer within imds-startup-timeout")
        .contains("DRAINGUARD_IMDS_ENDPOINT");
  }

  @Test
  void aGroupWithoutTerminationHook_runs_andStatusSaysItIsNotProtected() throws IOException {
    // issue 14: a hook made after the group (a separate resource) is a state, not exit 78
    try (Simulator sim = Simulator.start(Clock.systemUTC())) {
      sim.addGroup("g");
      sim.addInstance("g", "i-1", "us-east-1", true);
      CommandLine cl = DrainguardCommand.commandLine();
      CompletableFuture<Run> running =
          CompletableFuture.supplyAsync(
              () -> execute(cl, runAgainst(sim, dir).toArray(String[]::new)));
      Path socket = dir.resolve("control.sock");
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () ->
                  execute("status", "--control-socket", socket.toString())
                      .out()
                      .contains("no termination hook on group g: scale-in will not be held"));
      Run status = execute("status", "--control-socket", socket.toString());
      assertThat(status.out()).contains("NOT PROTECTED");
      assertThat(status.code()).isEqualTo(StatusCommand.NOT_PROTECTED);

      RunCommand run = cl.getSubcommands().get("run").getCommand();
      run.stop.countDown();
      assertThat(running.join().code()).isZero();
    }
  }

  @Test
  void run_holdsUntilStopped_andStoppingSendsNoComplete() throws IOException {
    Files.write(dir.resolve("queued.pq"), new byte[100]);
    try (Simulator sim = Simulator.start(Clock.systemUTC())) {
      sim.addGroup("g");
      sim.addInstance("g", "i-1", "us-east-1", true);
      sim.addTerminationHook("g", "h", Duration.ofSeconds(30), "ABANDON");
      CommandLine cl = DrainguardCommand.commandLine();
      CompletableFuture<Run> running =
          CompletableFuture.supplyAsync(
              () -> execute(cl, runAgainst(sim, dir).toArray(String[]::new)));
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> !sim.calls("DescribeLifecycleHooks").isEmpty());
      sim.terminate("i-1");
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () ->
                  sim.calls("RecordLifecycleActionHeartbeat").stream()
                      .anyMatch(c -> c.httpStatus() == 200));

      RunCommand run = cl.getSubcommands().get("run").getCommand();
      run.stop.countDown();

      Run r = running.join();
      assertThat(r.code()).isZero();
      assertThat(sim.calls("CompleteLifecycleAction")).isEmpty();
      assertThat(sim.lifecycleState("i-1")).isEqualTo("Terminating:Wait");
    }
  }

  @Test
  void demo_narratesAndEndsWithTheSummaryOfACompletedScaleIn() throws IOException {
    Run r = execute("demo");
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    List<String> lines = r.out().lines().toList();
    JsonNode summary = new ObjectMapper().readTree(lines.get(lines.size() - 1));
    assertThat(summary.get("result").asText()).isEqualTo("CONTINUE");
    assertThat(summary.get("phase").asText()).isEqualTo("COMPLETED");
    assertThat(summary.get("bytesAtCompletion").asLong()).isZero();
    assertThat(summary.get("heartbeats").asInt()).isGreaterThanOrEqualTo(2);
    assertThat(summary.get("instanceState").asText()).isEqualTo("Terminated");
    assertThat(r.out()).contains("HOLDING").contains("COMPLETED");
  }

  @Test
  void demoJson_printsOnlyTheSummary() throws IOException {
    Run r = execute("demo", "--json");
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    List<String> lines = r.out().lines().toList();
    assertThat(lines).hasSize(1);
    assertThat(new ObjectMapper().readTree(lines.get(0)).get("result").asText())
        .isEqualTo("CONTINUE");
  }

  static JsonNode demoSummary(String scenario) throws IOException {
    Run r = execute("demo", "--scenario", scenario);
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    List<String> lines = r.out().lines().toList();
    assertThat(r.out()).contains("done: ");
    return new ObjectMapper().readTree(lines.get(lines.size() - 1));
  }

  @Test
  void demoRetention_keepsTheInstancePastTheDeadlineAndTerminatesItWithNothingQueued()
      throws IOException {
    JsonNode s = demoSummary("retention");
    assertThat(s.get("phasesSeen")).extracting(JsonNode::asText).contains("RETAINED");
    assertThat(s.get("phase").asText()).isEqualTo("COMPLETED");
    assertThat(s.get("bytesAtCompletion").asLong()).isZero();
    assertThat(s.get("instanceState").asText()).isEqualTo("Terminated");
  }

  @Test
  void demoProtection_theBusyWorkerIsNotChosen() throws IOException {
    JsonNode s = demoSummary("protection");
    assertThat(s.get("result").asText()).isEqualTo("NOT_CHOSEN");
    assertThat(s.get("scaleInChose").asText()).isEqualTo(DemoScenarios.IDLE_INSTANCE);
    assertThat(s.get("protectionChanges").asInt()).isEqualTo(2);
  }

  @Test
  void demoSpot_runsTheFlushCommandOncePerNotice() throws IOException {
    JsonNode s = demoSummary("spot");
    assertThat(s.get("phase").asText()).isEqualTo("INTERRUPTED");
    assertThat(s.get("commandsRun"))
        .extracting(JsonNode::asText)
        .containsExactly("rebalance-recommendation", "spot-interruption");
  }

  @Test
  void demo_rejectsAnUnknownScenarioAsAUsageError() {
    Run r = execute("demo", "--scenario", "meteor-strike");
    assertThat(r.code()).isEqualTo(ExitCodes.USAGE);
  }
}
