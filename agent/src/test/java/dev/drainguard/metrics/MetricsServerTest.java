package dev.drainguard.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drainguard.testing.MutableClock;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MetricsServerTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  private final AgentMetrics metrics = new AgentMetrics(MutableClock.atNewYear(), "9.9.9");
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
  private MetricsServer server;
  private final java.util.List<java.net.Socket> slowClients = new java.util.ArrayList<>();

  @AfterEach
  void stop() throws IOException {
    for (java.net.Socket s : slowClients) {
      s.close();
    }
    if (server != null) {
      server.close();
    }
  }

  private MetricsServer start() throws IOException {
    server = MetricsServer.start(metrics, InetAddress.getByName("127.0.0.1"), 0);
    return server;
  }

  private HttpResponse<String> send(String method, String path)
      throws IOException, InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
            .timeout(TIMEOUT)
            .method(method, HttpRequest.BodyPublishers.noBody())
            .build();
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void getMetrics_answersThePrometheusTextFormat() throws Exception {
    start();

    HttpResponse<String> r = send("GET", "/metrics");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type"))
        .hasValue("text/plain; version=0.0.4; charset=utf-8");
    assertThat(new Scrape(r.body()).get("drainguard_agent_info", "version", "9.9.9"))
        .isEqualTo(1.0);
    assertThat(r.body()).contains("# TYPE drainguard_heartbeats_total counter");
  }

  @Test
  void aQueryString_isNotPartOfThePath() throws Exception {
    start();

    assertThat(send("GET", "/metrics?name[]=x").statusCode()).isEqualTo(200);
  }

  @Test
  void anyOtherPath_is404() throws Exception {
    start();

    for (String path : new String[] {"/", "/metricsx", "/metrics/", "/status"}) {
      assertThat(send("GET", path).statusCode()).as(path).isEqualTo(404);
    }
  }

  @Test
  void aMethodOtherThanGetOrHead_is405() throws Exception {
    start();

    HttpResponse<String> post = send("POST", "/metrics");
    assertThat(post.statusCode()).isEqualTo(405);
    assertThat(post.headers().firstValue("Allow")).hasValue("GET, HEAD");
    HttpResponse<String> head = send("HEAD", "/metrics");
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.body()).isEmpty();
  }

  @Test
  void itsThreads_areDaemons() throws Exception {
    // Guards against the JDK server's non-daemon dispatcher keeping the JVM alive after main.
    Set<Thread> before = Thread.getAllStackTraces().keySet();
    start();
    send("GET", "/metrics");

    Set<String> nonDaemons =
        Thread.getAllStackTraces().keySet().stream()
            .filter(t -> !before.contains(t) && !t.isDaemon())
            .map(Thread::getName)
            .collect(Collectors.toSet());
    assertThat(nonDaemons).isEmpty();
  }

  @Test
  void close_stopsServing_andTwiceIsHarmless() throws Exception {
    start();
    int port = server.port();
    server.close();
    server.close();

    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
            .timeout(TIMEOUT)
            .build();
    assertThatThrownBy(() -> http.send(request, HttpResponse.BodyHandlers.ofString()))
        .isInstanceOf(ConnectException.class);
  }

  @Test
  void aClientThatSendsOneByte_doesNotStopAScrape_andIsClosedWithinTheRequestLimit()
      throws Exception {
    start();
    // issue 20: one handler and no timeout: one such client stopped every scrape for 20 s at a
    // time; now it takes one handler of several, and only for the request limit
    try (java.net.Socket slow = new java.net.Socket("127.0.0.1", server.port())) {
      for (int i = 0; i < MetricsServer.HANDLERS - 2; i++) {
        slowClients.add(new java.net.Socket("127.0.0.1", server.port()));
        slowClients.get(i).getOutputStream().write('G');
      }
      slow.getOutputStream().write('G');

      assertThat(send("GET", "/metrics").statusCode()).isEqualTo(200);

      slow.setSoTimeout((int) MetricsServer.REQUEST_LIMIT.plusSeconds(20).toMillis());
      assertThat(slow.getInputStream().read()).isEqualTo(-1); // closed by the server
    }
  }

  @Test
  void aHeadLargerThanTheLimit_is431() throws Exception {
    start();
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", server.port())) {
      s.getOutputStream()
          .write(
              ("GET /metrics HTTP/1.1\r\nX-Big: " + "x".repeat(MetricsServer.MAX_HEAD) + "\r\n\r\n")
                  .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      String answer =
          new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
      assertThat(answer).startsWith("HTTP/1.1 431 ");
    }
  }

  @Test
  void anAddressBeyondLoopback_isRefusedWithoutTheOptIn_beforeAnythingIsBound() {
    assertThatThrownBy(
            () -> MetricsServer.start(metrics, InetAddress.getByName("0.0.0.0"), 0, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("metrics-allow-remote");
  }

  @Test
  void start_onAPortInUse_saysWhichAddressAndPort() throws Exception {
    start();

    assertThatThrownBy(
            () -> MetricsServer.start(metrics, InetAddress.getByName("127.0.0.1"), server.port()))
        .hasMessageContaining("127.0.0.1 port " + server.port())
        .hasMessageContaining("--metrics-port");
  }
}
