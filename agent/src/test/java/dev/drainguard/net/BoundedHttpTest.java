package dev.drainguard.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The IMDS transport against a raw loopback server that answers byte for byte as told: the request
 * it writes, the answer framings it reads, and the bounds it keeps against a peer that stalls,
 * trickles or floods.
 */
class BoundedHttpTest {

  private static final Duration CONNECT = Duration.ofSeconds(1);
  private static final Duration READ = Duration.ofMillis(600);
  private static final Duration LIMIT = Duration.ofMillis(1500);

  private OneAnswerPeer server;
  private final BoundedHttp http =
      new BoundedHttp(LoopbackGuard.of(true), "IMDS", CONNECT, READ, LIMIT);

  @AfterEach
  void close() throws IOException {
    if (server != null) {
      server.close();
    }
  }

  /** Accepts one connection, reads the request head, and lets {@code answer} write. */
  private CompletableFuture<String> serveOnce(OneAnswerPeer.Answerer answer) throws IOException {
    server = OneAnswerPeer.start(answer);
    return server.head();
  }

  private URI uri(String path) {
    return server.uri(path);
  }

  private static void write(OutputStream out, String text) throws IOException {
    OneAnswerPeer.write(out, text);
  }

  @Test
  void contentLength_bodyReadToItsLength_andTheRequestIsHttp11WithItsHeaders() throws Exception {
    CompletableFuture<String> head =
        serveOnce(out -> write(out, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nInServiceEXTRA"));

    BoundedHttp.Answer a =
        http.exchange(
            "GET", uri("/latest/meta-data/x?y=1"), Map.of("X-aws-ec2-metadata-token", "t"));

    assertThat(a).isEqualTo(new BoundedHttp.Answer(200, "InService"));
    assertThat(head.get(5, TimeUnit.SECONDS))
        .startsWith("GET /latest/meta-data/x?y=1 HTTP/1.1\r\n")
        .contains("\r\nHost: 127.0.0.1:" + server.port() + "\r\n")
        .contains("\r\nX-aws-ec2-metadata-token: t\r\n")
        .contains("\r\nConnection: close\r\n");
  }

  @Test
  void put_sendsAnEmptyBodyItSays() throws Exception {
    CompletableFuture<String> head =
        serveOnce(out -> write(out, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntok"));

    assertThat(http.exchange("PUT", uri("/latest/api/token"), Map.of()).body()).isEqualTo("tok");
    assertThat(head.get(5, TimeUnit.SECONDS))
        .startsWith("PUT /latest/api/token HTTP/1.1\r\n")
        .contains("\r\nContent-Length: 0\r\n");
  }

  @Test
  void chunked_withExtensionAndTrailer_joined() throws Exception {
    serveOnce(
        out ->
            write(
                out,
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "3;x=y\r\nIn-\r\n7\r\nService\r\n0\r\nTrailer: z\r\n\r\n"));

    assertThat(http.exchange("GET", uri("/"), Map.of()).body()).isEqualTo("In-Service");
  }

  @Test
  void neitherLengthNorChunks_bodyReadToTheEnd_interimAnswerSkipped() throws Exception {
    serveOnce(out -> write(out, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 404 Not Found\r\n\r\ngone"));

    assertThat(http.exchange("GET", uri("/"), Map.of()))
        .isEqualTo(new BoundedHttp.Answer(404, "gone"));
  }

  @Test
  void silentAfterTheRequest_noAnswerAfterTheReadTimeout() throws Exception {
    serveOnce(out -> sleep(3000));

    assertThatThrownBy(() -> http.exchange("PUT", uri("/latest/api/token"), Map.of()))
        .isInstanceOf(BoundedHttp.NoAnswerException.class)
        .hasMessageContaining("no answer within 600 ms");
  }

  // Each byte comes well inside the read timeout; only the bound on the whole exchange ends it.
  @Test
  void bodyTrickledForEver_endsAtTheExchangeLimit() throws Exception {
    serveOnce(
        out -> {
          write(out, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
          for (int i = 0; i < 100; i++) {
            write(out, "x");
            sleep(200);
          }
        });

    // Only the whole-exchange bound says this (each byte came well inside the read timeout).
    assertThatThrownBy(() -> http.exchange("GET", uri("/"), Map.of()))
        .isInstanceOf(BoundedHttp.NoAnswerException.class)
        .hasMessageContaining("1500 ms for the whole exchange");
  }

  @Test
  void answerLargerThanTheBound_refused() throws Exception {
    serveOnce(
        out -> {
          write(out, "HTTP/1.1 200 OK\r\n\r\n");
          byte[] kib = new byte[1024];
          for (int i = 0; i < 100; i++) {
            out.write(kib);
          }
        });

    assertThatThrownBy(() -> http.exchange("GET", uri("/"), Map.of()))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("larger than " + BoundedHttp.MAX_ANSWER);
  }

  @Test
  void declaredLengthLargerThanTheBound_refusedBeforeReading() throws Exception {
    serveOnce(out -> write(out, "HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n"));

    assertThatThrownBy(() -> http.exchange("GET", uri("/"), Map.of()))
        .hasMessageContaining("larger than " + BoundedHttp.MAX_ANSWER);
  }

  @Test
  void cutShortOrGarbled_malformed_neverAnAnswer() throws Exception {
    serveOnce(out -> write(out, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"));
    assertThatThrownBy(() -> http.exchange("GET", uri("/"), Map.of()))
        .isNotInstanceOf(BoundedHttp.NoAnswerException.class)
        .hasMessageContaining("cut short: 5 of 10");
    server.close();

    serveOnce(out -> write(out, "SSH-2.0-OpenSSH\r\n\r\n"));
    assertThatThrownBy(() -> http.exchange("GET", uri("/"), Map.of()))
        .hasMessageContaining("malformed HTTP answer")
        .hasMessageContaining("status line 'SSH-2.0-OpenSSH'");
  }

  @Test
  void nobodyListening_failsAsAConnection_notAsNoAnswer() throws Exception {
    URI closed;
    try (ServerSocket gone = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = URI.create("http://127.0.0.1:" + gone.getLocalPort() + "/");
    }

    assertThatThrownBy(() -> http.exchange("GET", closed, Map.of()))
        .isInstanceOf(IOException.class)
        .isNotInstanceOf(BoundedHttp.NoAnswerException.class);
  }

  @Test
  void linkLocalTarget_refusedByTheGuard_beforeAnyConnection() {
    assertThatThrownBy(
            () -> http.exchange("GET", URI.create("http://169.254.169.254/latest/"), Map.of()))
        .isInstanceOf(EndpointRefusedException.class)
        .hasMessageContaining("IMDS endpoint http://169.254.169.254/latest/");
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
