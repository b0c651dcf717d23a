package dev.drainguard.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The installed agent's metrics endpoint (issue 20, finding 7): a client that sends one byte does
 * not stop scrapes, and an address beyond loopback is refused unless asked for explicitly, and
 * always under loopback-only. (Nothing here binds beyond loopback: the refusals are read from
 * {@code drainguard check}, which loads the config as {@code run} does and binds nothing.)
 */
class MetricsEndpointIT {

  @TempDir Path root;
  @TempDir Path work;
  InstalledAgent installed;

  @AfterEach
  void stop() throws InterruptedException {
    if (installed != null) {
      installed.close();
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void aClientThatSendsOneByte_doesNotStopAScrape_andIsCutOffWithinSeconds() throws Exception {
    int port = freePort();
    installed = new InstalledAgent(root, work, "metrics-port = " + port);
    installed.start();
    installed.awaitStatus(0);
    HttpClient http = HttpClient.newHttpClient();
    HttpRequest scrape =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
            .timeout(Duration.ofSeconds(5))
            .build();

    try (Socket slow = new Socket("127.0.0.1", port)) {
      slow.getOutputStream().write('G');

      // issue 20: this scrape waited for the slow client (20 s at a time): a timeout here
      HttpResponse<String> r = http.send(scrape, HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).contains("drainguard_agent_info");

      slow.setSoTimeout(30_000);
      assertThat(slow.getInputStream().read()).isEqualTo(-1); // closed by the agent
    }
  }

  @Test
  void anAddressBeyondLoopback_needsTheOptIn_andIsNeverAllowedUnderLoopbackOnly() {
    installed = new InstalledAgent(root, work); // its config says loopback-only = true
    String launcher = installed.launcher().toString();
    Map<String, String> env = new HashMap<>(installed.env);
    env.put("DRAINGUARD_METRICS_PORT", "9464");
    env.put("DRAINGUARD_METRICS_BIND", "0.0.0.0");
    env.put("DRAINGUARD_METRICS_ALLOW_REMOTE", "true");

    // issue 20: accepted "without a word", even with loopback-only
    Pkg.Result underLoopbackOnly = Pkg.run(env, launcher, "check");
    assertThat(underLoopbackOnly.exit()).isEqualTo(1);
    assertThat(underLoopbackOnly.out())
        .contains("--metrics-bind", "0.0.0.0 is not a loopback address", "loopback-only is set");

    env.put("DRAINGUARD_LOOPBACK_ONLY", "false");
    env.remove("DRAINGUARD_METRICS_ALLOW_REMOTE");
    Pkg.Result withoutOptIn = Pkg.run(env, launcher, "check");
    assertThat(withoutOptIn.exit()).isEqualTo(1);
    assertThat(withoutOptIn.out())
        .contains("0.0.0.0 is not a loopback address", "set --metrics-allow-remote true");
  }
}
