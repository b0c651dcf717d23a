package dev.drainguard.status;

import dev.drainguard.operator.Caller;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One admitted connection: up to {@link #MAX_REQUESTS} request lines, each answered by one reply
 * line. The client's side is bounded: a request must arrive whole within {@link #READ_LIMIT} (of
 * the connection opening, or of the previous reply) and a reply must be taken within {@link
 * #WRITE_LIMIT}, else the connection is closed. A client that is idle, slow or does not read can
 * hold a slot for seconds, not for ever. The agent's side (a hold waiting for the drain loop) is
 * not counted against the client.
 */
final class ControlSession {

  private static final Logger log = LoggerFactory.getLogger(ControlSession.class);

  /**
   * How long a client has to send a whole request line: the CLI sends it at once, so seconds are
   * generous; a client trickling bytes (or asking every few seconds) is cut off.
   */
  static final Duration READ_LIMIT = Duration.ofSeconds(3);

  /** How long a client has to take a reply (a few KiB): one that does not read is cut off. */
  static final Duration WRITE_LIMIT = Duration.ofSeconds(3);

  /** Requests served on one connection; then it is closed, and the client may connect again. */
  static final int MAX_REQUESTS = 16;

  private final SocketChannel client;
  private final Caller caller;
  private final ControlRequests requests;
  private final ScheduledExecutorService watchdog;

  ControlSession(
      SocketChannel client,
      Caller caller,
      ControlRequests requests,
      ScheduledExecutorService watchdog) {
    this.client = client;
    this.caller = caller;
    this.requests = requests;
    this.watchdog = watchdog;
  }

  void serve() {
    try (client;
        BufferedReader in =
            new BufferedReader(
                new InputStreamReader(Channels.newInputStream(client), StandardCharsets.UTF_8));
        OutputStream out = Channels.newOutputStream(client)) {
      for (int served = 0; served < MAX_REQUESTS; served++) {
        String line = within(READ_LIMIT, () -> readLine(in));
        if (line == null) {
          return;
        }
        boolean tooLong = line.startsWith("\u0000");
        ControlProtocol.Reply reply =
            tooLong
                ? ControlProtocol.Reply.error(
                    "request longer than " + ControlProtocol.MAX_LINE + " characters")
                : requests.answer(line, caller);
        byte[] bytes = ControlJson.write(reply).getBytes(StandardCharsets.UTF_8);
        within(
            WRITE_LIMIT,
            () -> {
              out.write(bytes);
              out.write('\n');
              out.flush();
              return null;
            });
        if (tooLong) {
          return; // the rest of an over-long line is not a request
        }
      }
    } catch (IOException e) {
      log.debug("control client gone uid={} error={}", caller.uid(), e.toString());
    }
  }

  private interface Io<T> {
    T run() throws IOException;
  }

  /**
   * Runs {@code io}, closing the connection (which ends it with an exception) past {@code limit}.
   */
  private <T> T within(Duration limit, Io<T> io) throws IOException {
    ScheduledFuture<?> cutOff =
        watchdog.schedule(this::cutOff, limit.toMillis(), TimeUnit.MILLISECONDS);
    try {
      return io.run();
    } finally {
      cutOff.cancel(false);
    }
  }

  private void cutOff() {
    try {
      client.close();
    } catch (IOException e) {
      log.debug("closing a slow control client failed: {}", e.toString());
    }
  }

  /**
   * A line of at most MAX_LINE characters, without its newline; "\0too-long" for a longer one; null
   * at the end of the stream.
   */
  private static String readLine(BufferedReader in) throws IOException {
    StringBuilder b = new StringBuilder();
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\n') {
        return b.toString();
      }
      if (b.length() >= ControlProtocol.MAX_LINE) {
        return "\u0000too-long";
      }
      b.append((char) c);
    }
    return b.length() == 0 ? null : b.toString();
  }
}
