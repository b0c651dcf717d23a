package dev.drainguard.net;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/**
 * A raw loopback peer for {@link BoundedHttp}'s tests: accepts one connection, reads the request
 * head, and lets the test write whatever bytes it likes as the answer.
 */
final class OneAnswerPeer implements AutoCloseable {

  /** Writes the answer, byte for byte. */
  interface Answerer {
    void write(OutputStream out) throws IOException;
  }

  private final ServerSocket server;
  private final CompletableFuture<String> head;

  private OneAnswerPeer(ServerSocket server, Answerer answer) {
    this.server = server;
    this.head =
        CompletableFuture.supplyAsync(
            () -> {
              try (Socket s = server.accept()) {
                String h = readHead(s.getInputStream());
                answer.write(s.getOutputStream());
                return h;
              } catch (IOException e) {
                return "server: " + e; // the client gave up, or the test closed the peer
              }
            });
  }

  /** Starts a peer on 127.0.0.1, any free port. */
  static OneAnswerPeer start(Answerer answer) throws IOException {
    return new OneAnswerPeer(new ServerSocket(0, 1, InetAddress.getLoopbackAddress()), answer);
  }

  /** Writes {@code text} as it stands (ISO-8859-1) and flushes. */
  static Answerer text(String text) {
    return out -> write(out, text);
  }

  static void write(OutputStream out, String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
  }

  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.getLocalPort() + path);
  }

  int port() {
    return server.getLocalPort();
  }

  /** The request head the peer read (up to its blank line), once the answer is written. */
  CompletableFuture<String> head() {
    return head;
  }

  private static String readHead(InputStream in) throws IOException {
    StringBuilder s = new StringBuilder();
    while (!s.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        break;
      }
      s.append((char) c);
    }
    return s.toString();
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
