package dev.drainguard.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Adversary: answers that are framed strangely but that a peer (IMDS, or whatever sits in front of
 * Auto Scaling) could send. Each is read as HTTP/1.1 says, or refused as malformed or oversized:
 * never a body other than the one framed, never a hang.
 */
class AdversaryHttpFramingTest {

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

  private URI serveOnce(OneAnswerPeer.Answerer answer) throws IOException {
    close();
    server = OneAnswerPeer.start(answer);
    return server.uri("/");
  }

  private static OneAnswerPeer.Answerer text(String s) {
    return OneAnswerPeer.text(s);
  }

  // RFC 9112 6.3: Transfer-Encoding overrides Content-Length; the bytes after the last chunk are
  // not body.
  @Test
  void contentLengthAndChunked_theChunksFrameTheBody() throws Exception {
    URI uri =
        serveOnce(
            text(
                "HTTP/1.1 200 OK\r\nContent-Length: 30\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "a\r\nTerminated\r\n0\r\n\r\nInService, smuggled"));

    assertThat(http.exchange("GET", uri, Map.of()).body()).isEqualTo("Terminated");
  }

  @Test
  void negativeOrOverflowingLengths_malformed() throws Exception {
    for (String length : new String[] {"-1", "99999999999999999999", "5, 5", "0x10"}) {
      URI uri = serveOnce(text("HTTP/1.1 200 OK\r\nContent-Length: " + length + "\r\n\r\nhello"));
      assertThatThrownBy(() -> http.exchange("GET", uri, Map.of()))
          .as(length)
          .hasMessageContaining("malformed HTTP answer")
          .hasMessageContaining("Content-Length");
    }
    for (String size : new String[] {"-5", "ffffffffff", "zz"}) {
      URI uri =
          serveOnce(
              text(
                  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                      + size
                      + "\r\nhello\r\n0\r\n\r\n"));
      assertThatThrownBy(() -> http.exchange("GET", uri, Map.of()))
          .as(size)
          .isInstanceOf(IOException.class)
          .isNotInstanceOf(BoundedHttp.NoAnswerException.class);
    }
  }

  @Test
  void aStormOfInterimAnswers_orHeadersWithoutEnd_refusedByTheBound() throws Exception {
    URI storm =
        serveOnce(
            out -> {
              byte[] interim = "HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
              for (int i = 0; i < 5000; i++) {
                out.write(interim);
              }
              out.flush();
            });
    assertThatThrownBy(() -> http.exchange("GET", storm, Map.of()))
        .hasMessageContaining("larger than " + BoundedHttp.MAX_ANSWER);

    URI endless =
        serveOnce(
            out -> {
              out.write("HTTP/1.1 200 OK\r\n".getBytes(StandardCharsets.US_ASCII));
              byte[] header = "X-Filler: yes\r\n".getBytes(StandardCharsets.US_ASCII);
              for (int i = 0; i < 10000; i++) {
                out.write(header);
              }
              out.flush();
            });
    assertThatThrownBy(() -> http.exchange("GET", endless, Map.of()))
        .hasMessageContaining("larger than " + BoundedHttp.MAX_ANSWER);
  }

  // Bare LF line ends are read; a chunk whose data runs past its size is refused.
  @Test
  void bareLineFeeds_read_chunkOverrun_refused() throws Exception {
    URI lf = serveOnce(text("HTTP/1.1 200 OK\nContent-Length: 9\n\nInService"));
    assertThat(http.exchange("GET", lf, Map.of()).body()).isEqualTo("InService");

    URI overrun =
        serveOnce(
            text(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "2\r\nInService\r\n0\r\n\r\n"));
    assertThatThrownBy(() -> http.exchange("GET", overrun, Map.of()))
        .hasMessageContaining("chunk without its line end");
  }

  // The peer says nothing after its headers and keeps the connection open (keep-alive, no
  // length): the body is read to the end, which the exchange limit bounds.
  @Test
  void noLengthAndTheConnectionKeptOpen_endsAtTheLimit() throws Exception {
    URI uri =
        serveOnce(
            out -> {
              out.write("HTTP/1.1 200 OK\r\n\r\nTermin".getBytes(StandardCharsets.US_ASCII));
              out.flush();
              try {
                Thread.sleep(5000);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });

    assertThatThrownBy(() -> http.exchange("GET", uri, Map.of()))
        .isInstanceOf(BoundedHttp.NoAnswerException.class);
  }
}
