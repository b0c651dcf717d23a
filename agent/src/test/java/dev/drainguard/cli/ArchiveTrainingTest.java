package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drainguard.status.ControlServer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The class-data archive's training run: real exchanges over a real control socket, nothing left
 * behind, the JVM's own streams given back.
 */
class ArchiveTrainingTest {

  @TempDir Path dir;

  @Test
  void train_everyCommandExitsAsAgainstAHoldingAgent_andTheStreamsAreGivenBack()
      throws IOException {
    PrintStream out = System.out;
    PrintStream err = System.err;

    assertThat(ArchiveTraining.train(dir)).isEmpty();

    assertThat(System.out).isSameAs(out);
    assertThat(System.err).isSameAs(err);
    // the server removed its socket; only the config file and the socket's directory remain
    try (Stream<Path> left = Files.walk(dir)) {
      assertThat(left.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()))
          .containsExactly("drainguard.conf");
    }
  }

  // The agent part of the training (archives whose classes load when used): a real agent in
  // service against the simulator, signing its Auto Scaling calls with the instance profile's
  // credentials read through IMDS, as a worker does. It reaches service only if the calls of its
  // hook discovery were signed and accepted.
  @Test
  void agentTraining_anAgentInServiceOnInstanceProfileCredentials() throws IOException {
    assertThat(AgentTraining.train(dir)).isEmpty();
  }

  /** Guards against a training that archives a refusal or an error reply instead of a status. */
  @Test
  void theServedStatusIsAHoldingAgentWithQueuesProbesAForecastAndTheHold() throws IOException {
    Path socket = dir.resolve("run/control.sock");
    Clock clock = Clock.systemUTC();
    try (ControlServer server =
        ControlServer.start(
            socket, ControlServer.GROUP, new ArchiveTraining.HoldingAgent(dir, clock), clock)) {
      String via = "--control-socket=" + socket;
      MainTest.Run text = MainTest.execute("status", via);
      assertThat(text.code()).as(text.err()).isEqualTo(ArchiveTraining.HOLDING);
      assertThat(text.out()).contains("phase         HOLDING", "i-0123456789abcdef0");

      MainTest.Run hold = MainTest.execute("hold", "--reason", "archive training", via);
      assertThat(hold.code()).as(hold.err()).isZero();
      MainTest.Run release = MainTest.execute("release", via);
      assertThat(release.code()).isEqualTo(ArchiveTraining.REFUSED);
      assertThat(release.err()).contains("still queued");

      MainTest.Run json = MainTest.execute("status", "--json", via);
      JsonNode j = new ObjectMapper().readTree(json.out());
      assertThat(j.get("phase").asText()).isEqualTo("HOLDING");
      assertThat(j.get("holdReason").asText()).endsWith("archive training");
      assertThat(j.get("queues").get("roots")).hasSize(2);
      assertThat(j.get("queues").get("probes")).hasSize(3);
      assertThat(j.get("queues").get("forecast").asText()).startsWith("draining");
    }
  }
}
