package dev.drainguard.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drainguard.testing.TestTls;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLServerSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Adversary: a middlebox between the agent and an https Auto Scaling endpoint (or the CONNECT proxy
 * in front of it) passes every byte of the genuine TLS stream on, but one at a time, each well
 * inside the read timeout. The exchange must still end at its whole-exchange limit: TLS reads a
 * record (up to 16 KiB) with many socket reads, each of which must wait at most for what the
 * deadline leaves, or one exchange lasts as long as the middlebox likes.
 */
class AdversaryTlsTrickleTest {

  private static final Duration CONNECT = Duration.ofSeconds(1);
  private static final Duration READ = Duration.ofMillis(600);
  private static final Duration LIMIT = Duration.ofMillis(1500);
  private static final Duration PACE = Duration.ofMillis(20);

  private SSLServerSocket server;
  private ServerSocket relay;
  private final AtomicBoolean stop = new AtomicBoolean();

  @AfterEach
  void close() throws IOException {
    stop.set(true);
    if (relay != null) {
      relay.close();
    }
    if (server != null) {
      server.close();
    }
  }

  // The server's handshake messages (some 800 bytes) trickled at 20 ms a byte: 16 s.
  @Test
  void handshakeTrickled_endsAtTheExchangeLimit(@TempDir Path dir) throws Exception {
    assertEndsAtTheLimit(dir, false);
  }

  // The handshake at full speed; the answer (a 2 KiB body in one record) trickled: 40 s.
  @Test
  void answerRecordTrickled_endsAtTheExchangeLimit(@TempDir Path dir) throws Exception {
    assertEndsAtTheLimit(dir, true);
  }

  private void assertEndsAtTheLimit(Path dir, boolean afterAPause) throws Exception {
    KeyStore ks = TestTls.keyStore(dir, "IP:127.0.0.1");
    server = tlsServer(ks);
    AtomicInteger trickled = new AtomicInteger();
    relay = trickle(server.getLocalPort(), afterAPause, trickled);
    BoundedHttp http =
        new BoundedHttp(
            LoopbackGuard.of(true),
            "Auto Scaling",
            CONNECT,
            READ,
            LIMIT,
            BoundedHttp.MAX_ANSWER,
            () -> TestTls.trusting(ks),
            Optional.empty());
    URI uri = URI.create("https://127.0.0.1:" + relay.getLocalPort() + "/");

    assertThatThrownBy(() -> http.exchange("POST", uri, Map.of(), new byte[] {'x'}))
        .isInstanceOf(IOException.class);
    // Ended by the 1.5 s limit, the middlebox has passed on some 75 of the bytes it trickles.
    assertThat(trickled.get()).as("bytes trickled when the exchange ended").isLessThan(300);
  }

  /** Answers every request 300 ms after it came, with a 2 KiB body, at full speed. */
  private SSLServerSocket tlsServer(KeyStore ks) throws Exception {
    SSLServerSocket s = TestTls.server(ks);
    Thread t =
        new Thread(
            () -> {
              while (!s.isClosed()) {
                try (Socket conn = s.accept()) {
                  InputStream in = conn.getInputStream();
                  StringBuilder head = new StringBuilder();
                  while (!head.toString().endsWith("\r\n\r\n")) {
                    int b = in.read();
                    if (b < 0) {
                      break;
                    }
                    head.append((char) b);
                  }
                  Thread.sleep(300);
                  String body = "x".repeat(2048);
                  OutputStream out = conn.getOutputStream();
                  out.write(
                      ("HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
                          .getBytes(StandardCharsets.ISO_8859_1));
                  out.flush();
                  conn.getInputStream().read(); // until the client closes
                } catch (IOException | InterruptedException e) {
                  // the client gave up, or closing
                }
              }
            },
            "tls-server");
    t.setDaemon(true);
    t.start();
    return s;
  }

  /**
   * A TCP relay to {@code port}: client to server at full speed, server to client one byte per
   * {@link #PACE} (from the start, or once the server has been silent for 150 ms), counting the
   * bytes trickled.
   */
  private ServerSocket trickle(int port, boolean afterAPause, AtomicInteger passed)
      throws IOException {
    ServerSocket s = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
    Thread t =
        new Thread(
            () -> {
              while (!s.isClosed()) {
                try {
                  Socket client = s.accept();
                  Socket target = new Socket(InetAddress.getLoopbackAddress(), port);
                  pump(client, target, false, null);
                  pump(target, client, !afterAPause, passed);
                } catch (IOException e) {
                  // closing
                }
              }
            },
            "trickle-relay");
    t.setDaemon(true);
    t.start();
    return s;
  }

  private void pump(Socket from, Socket to, boolean trickling, AtomicInteger passed) {
    Thread t =
        new Thread(
            () -> {
              boolean slow = trickling;
              try (from;
                  to) {
                if (passed != null) {
                  from.setSoTimeout(150);
                }
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                while (!stop.get()) {
                  int b;
                  try {
                    b = in.read();
                  } catch (SocketTimeoutException e) {
                    slow = true;
                    continue;
                  }
                  if (b < 0) {
                    return;
                  }
                  out.write(b);
                  out.flush();
                  if (slow) {
                    passed.incrementAndGet();
                    Thread.sleep(PACE.toMillis());
                  }
                }
              } catch (IOException | InterruptedException e) {
                // one side closed
              }
            },
            "trickle-pump");
    t.setDaemon(true);
    t.start();
  }
}
