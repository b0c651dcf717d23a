package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drainguard.drain.Phase;
import dev.drainguard.operator.Caller;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code status}, {@code hold} and {@code release} through their real entry point and the real
 * control socket of a real agent, driven through a scale-in by the simulator.
 */
class StatusCommandTest {

  static final Duration HT = Duration.ofSeconds(60);

  @TempDir Path root;
  ScaleInHarness h;

  @AfterEach
  void tearDown() {
    if (h != null) {
      h.close();
    }
  }

  MainTest.Run cli(String... args) {
    String[] all = new String[args.length + 2];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "--control-socket";
    all[args.length + 1] = h.socket().toString();
    return MainTest.execute(all);
  }

  JsonNode json() throws IOException {
    MainTest.Run r = cli("status", "--json");
    return new ObjectMapper().readTree(r.out());
  }

  Path queued(int bytes) throws IOException {
    Path dir = root.resolve("0/out");
    Files.createDirectories(dir);
    return Files.write(dir.resolve("00001.pq"), new byte[bytes]);
  }

  @Test
  void statusInEachPhase_reportsItsFieldsAndExitCode() throws IOException {
    Path file = queued(2048);
    h = new ScaleInHarness(HT, Duration.ofSeconds(20), root);
    h.startAgent();

    MainTest.Run inService = cli("status");
    assertThat(inService.code()).isEqualTo(StatusCommand.IN_SERVICE);
    assertThat(inService.out())
        .contains("phase         IN_SERVICE")
        .contains("instance      " + ScaleInHarness.INSTANCE + " in asg " + ScaleInHarness.GROUP)
        .contains("HeartbeatTimeout 1m 0s, global timeout 1h 40m, DefaultResult ABANDON")
        .contains("queues        NOT empty, 1 files, 2.0 KiB")
        .contains(root.toString());
    JsonNode j = json();
    assertThat(j.get("phase").asText()).isEqualTo("IN_SERVICE");
    assertThat(j.get("version").asText()).isEqualTo(Version.get());
    assertThat(j.get("pid").asLong()).isEqualTo(ProcessHandle.current().pid());
    assertThat(j.get("queues").get("roots").get(0).get("bytes").asLong()).isEqualTo(2048);
    assertThat(j.get("deadlinePolicy").asText()).isEqualTo("expire");

    h.sim.terminate(ScaleInHarness.INSTANCE);
    h.advance(Duration.ofSeconds(5));
    MainTest.Run awaiting = cli("status");
    assertThat(awaiting.code()).isEqualTo(StatusCommand.HOLDING);
    j = json();
    assertThat(j.get("phase").asText()).isEqualTo("AWAITING_ACTION");
    assertThat(j.get("targetLifecycleState").asText()).isEqualTo("TERMINATED");
    assertThat(j.get("noticedAt").asText()).isNotEmpty();
    assertThat(j.get("deadline").asText()).isNotEmpty();

    h.advance(Duration.ofSeconds(40));
    MainTest.Run holding = cli("status");
    assertThat(holding.code()).isEqualTo(StatusCommand.HOLDING);
    assertThat(holding.out()).contains("phase         HOLDING (action active since");
    j = json();
    assertThat(j.get("phase").asText()).isEqualTo("HOLDING");
    assertThat(j.get("heartbeats").asInt()).isEqualTo(h.accepted("RecordLifecycleActionHeartbeat"));
    assertThat(j.get("nextHeartbeat").asText()).isNotEmpty();
    assertThat(j.get("heldSeconds").asLong()).isBetween(0L, 40L);
    assertThat(j.get("deadlineInSeconds").asLong()).isPositive();

    Files.delete(file);
    h.awaitStatus(s -> s.queues().empty());
    h.advance(Duration.ofSeconds(11));
    h.awaitStatus(s -> s.phase() == Phase.COMPLETED);
    MainTest.Run done = cli("status");
    assertThat(done.code()).isEqualTo(StatusCommand.ENDED);
    assertThat(done.out()).contains("phase         COMPLETED").contains("CONTINUE sent");
    j = json();
    assertThat(j.get("result").asText()).isEqualTo("CONTINUE");
    assertThat(j.get("bytesAtEnd").asLong()).isZero();
    assertThat(j.get("endReason").asText()).isEqualTo("queues drained");
  }

  @Test
  void holdThenRelease_refusedWithData_acceptedWithForce_reportingTheLostBytes()
      throws IOException {
    queued(4096);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.startAgent();
    h.scaleInUntilHolding();

    MainTest.Run hold = cli("hold", "--reason", "checking the S3 output");
    assertThat(hold.code()).isZero();
    assertThat(hold.out()).contains("holding");
    String me = System.getProperty("user.name") + " (uid " + Caller.selfUid() + ")";
    assertThat(cli("status").out())
        .contains("hold          since ")
        .contains(", by " + me + ": checking the S3 output");

    MainTest.Run refused = cli("release");
    assertThat(refused.code()).isEqualTo(ExitCodes.FAILURE);
    assertThat(refused.err())
        .contains("4096 bytes in 1 files are still queued")
        .contains("--force");
    assertThat(h.calls("CompleteLifecycleAction")).isEmpty();

    MainTest.Run forced = cli("release", "--force", "--reason", "destination retired");
    assertThat(forced.code()).isZero();
    assertThat(forced.out()).contains("CONTINUE sent, 4096 queued bytes lost");
    assertThat(h.calls("CompleteLifecycleAction")).hasSize(1);
    JsonNode j = json();
    assertThat(j.get("phase").asText()).isEqualTo("COMPLETED");
    assertThat(j.get("bytesAtEnd").asLong()).isEqualTo(4096);
    assertThat(j.get("endReason").asText())
        .contains("released by operator " + me + " with --force, 4096 bytes lost")
        .contains("destination retired");
  }

  @Test
  void holdKeepsADrainedInstance_untilReleased() throws IOException {
    Path file = queued(10);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.startAgent();
    h.scaleInUntilHolding();
    assertThat(cli("hold").code()).isZero();
    Files.delete(file);
    h.awaitStatus(s -> s.queues().empty());
    h.advance(Duration.ofMinutes(3));
    assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);
    assertThat(h.calls("CompleteLifecycleAction")).isEmpty();

    MainTest.Run release = cli("release");
    assertThat(release.code()).isZero();
    assertThat(release.out()).isEqualTo("completed: CONTINUE sent" + System.lineSeparator());
    assertThat(h.calls("CompleteLifecycleAction")).hasSize(1);
  }

  @Test
  void aStoppedAgent_exits3WithTheSocketAndAHint() {
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    MainTest.Run r = cli("status");
    assertThat(r.code()).isEqualTo(ControlOptions.UNREACHABLE);
    assertThat(r.err().strip())
        .doesNotContain("\n")
        .contains("not reachable at " + h.socket())
        .contains("systemctl status drainguard");
    assertThat(cli("hold").code()).isEqualTo(ControlOptions.UNREACHABLE);
    assertThat(cli("release", "--force").code()).isEqualTo(ControlOptions.UNREACHABLE);
  }

  @Test
  void watch_redrawsUntilTheAgentGoesAway_thenExits3() {
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    Agent agent = h.startAgent();
    java.io.StringWriter out = new java.io.StringWriter();
    picocli.CommandLine cl = DrainguardCommand.commandLine();
    cl.setOut(new java.io.PrintWriter(out, true));
    cl.setErr(new java.io.PrintWriter(new java.io.StringWriter(), true));
    java.util.concurrent.CompletableFuture<Integer> watching =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () -> cl.execute("status", "--watch", "--control-socket", h.socket().toString()));
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> out.toString().split("\u001b\\[2J", -1).length > 2);
    agent.close();
    assertThat(watching.join()).isEqualTo(ControlOptions.UNREACHABLE);
    assertThat(out.toString()).contains("phase         IN_SERVICE");
  }

  /** Fields every status has, in any phase. */
  static final java.util.List<String> ALWAYS =
      java.util.List.of(
          "version",
          "pid",
          "startedAt",
          "uptimeSeconds",
          "evaluatedAt",
          "phase",
          "targetLifecycleState",
          "group",
          "hook",
          "instance",
          "hookHeartbeatTimeoutSeconds",
          "hookGlobalTimeoutSeconds",
          "hookDefaultResult",
          "deadlinePolicy",
          "heartbeats",
          "releaseRequested",
          "queues");

  static final java.util.List<String> WHILE_TERMINATING =
      java.util.List.of("noticedAt", "deadline");

  static final java.util.List<String> WHILE_HOLDING =
      java.util.List.of(
          "actionActiveSince",
          "heldSeconds",
          "lastHeartbeat",
          "nextHeartbeat",
          "deadlineInSeconds");

  static final java.util.List<String> WHEN_ENDED =
      java.util.List.of("result", "endReason", "endedAt", "bytesAtEnd");

  static void assertFields(
      JsonNode j, java.util.List<String> present, java.util.List<String> absent) {
    assertThat(j.fieldNames()).toIterable().containsAll(ALWAYS).containsAll(present);
    assertThat(j.fieldNames()).toIterable().doesNotContainAnyElementsOf(absent);
    assertThat(j.get("queues").fieldNames())
        .toIterable()
        .contains("empty", "totalBytes", "totalFiles", "roots");
    assertThat(j.get("queues").get("roots").get(0).fieldNames())
        .toIterable()
        .contains("path", "files", "bytes");
  }

  @Test
  void everyStatusField_isPresentExactlyInThePhasesItBelongsTo() throws IOException {
    Path file = queued(100);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.startAgent();
    var terminating = new java.util.ArrayList<>(WHILE_TERMINATING);
    var holding = new java.util.ArrayList<>(WHILE_HOLDING);

    assertFields(json(), java.util.List.of(), concat(terminating, holding, WHEN_ENDED));

    h.scaleInUntilHolding();
    h.advance(Duration.ofSeconds(1));
    JsonNode j = json();
    assertThat(j.get("phase").asText()).isEqualTo("HOLDING");
    assertFields(j, concat(terminating, holding), WHEN_ENDED);
    assertThat(j.get("queues").get("roots").get(0).get("oldestAgeSeconds")).isNotNull();

    Files.delete(file);
    h.awaitStatus(s -> s.queues().empty());
    JsonNode drained = json();
    assertThat(drained.get("queues").get("emptySince")).isNotNull();
    h.advance(Duration.ofSeconds(11));
    h.awaitStatus(s -> s.phase() == Phase.COMPLETED);
    assertFields(
        json(),
        concat(terminating, WHEN_ENDED, java.util.List.of("actionActiveSince", "heldSeconds")),
        java.util.List.of("nextHeartbeat", "deadlineInSeconds"));
  }

  @SafeVarargs
  static java.util.List<String> concat(java.util.List<String>... lists) {
    return java.util.Arrays.stream(lists).flatMap(java.util.List::stream).toList();
  }

  @Test
  void theRealAgentsSocket_answersAMalformedRequestWithAnErrorAndKeepsServing() throws IOException {
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.startAgent();
    try (var ch = java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
      ch.connect(java.net.UnixDomainSocketAddress.of(h.socket()));
      var out = java.nio.channels.Channels.newOutputStream(ch);
      var in =
          new java.io.BufferedReader(
              new java.io.InputStreamReader(
                  java.nio.channels.Channels.newInputStream(ch),
                  java.nio.charset.StandardCharsets.UTF_8));
      out.write("{\"v\":1,\"op\":\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
      out.flush();
      JsonNode reply = new ObjectMapper().readTree(in.readLine());
      assertThat(reply.get("ok").asBoolean()).isFalse();
      assertThat(reply.get("error").asText()).contains("malformed request");
    }
    assertThat(cli("status").code()).isEqualTo(StatusCommand.IN_SERVICE);
  }

  @Test
  void fiftyConcurrentStatusClients_ofTheRealAgent_areAllAnswered() throws Exception {
    queued(5);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.startAgent();
    var pool = java.util.concurrent.Executors.newFixedThreadPool(50);
    var go = new java.util.concurrent.CountDownLatch(1);
    var replies = new java.util.ArrayList<java.util.concurrent.Future<MainTest.Run>>();
    for (int i = 0; i < 50; i++) {
      replies.add(
          pool.submit(
              () -> {
                go.await();
                return cli("status", "--json");
              }));
    }
    go.countDown();
    for (var f : replies) {
      MainTest.Run r = f.get(30, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(r.code()).isEqualTo(StatusCommand.IN_SERVICE);
      assertThat(new ObjectMapper().readTree(r.out()).get("queues").get("totalBytes").asLong())
          .isEqualTo(5);
    }
    pool.shutdownNow();
  }
}
