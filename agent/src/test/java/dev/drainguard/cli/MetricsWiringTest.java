package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.config.Setting;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent as assembled for {@code run}, with {@code --metrics-port}: the scrape shows it. */
class MetricsWiringTest {

  @TempDir Path root;
  ScaleInHarness h;

  @AfterEach
  void tearDown() {
    if (h != null) {
      h.close();
    }
  }

  @Test
  void metricsPort_servesTheAgentsOwnMetrics() throws IOException, InterruptedException {
    Files.write(root.resolve("00001.pq"), new byte[777]);
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    h = new ScaleInHarness(Duration.ofSeconds(60), Duration.ZERO, root);
    h.set(Setting.METRICS_PORT, Integer.toString(port));
    h.startAgent();
    h.scaleInUntilHolding();
    h.advance(Duration.ofSeconds(45));

    String body =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();

    assertThat(body)
        .contains("drainguard_phase{phase=\"holding\"} 1.0")
        .contains("drainguard_queue_bytes{root=\"" + root + "\"} 777.0")
        .contains(
            "drainguard_heartbeats_total " + h.accepted("RecordLifecycleActionHeartbeat") + ".0");
  }
}
