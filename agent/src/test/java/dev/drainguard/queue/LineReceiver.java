package dev.drainguard.queue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The far end of rsyslog's forwarding action: a TCP listener on 127.0.0.1 that can be taken down
 * (nothing listens, connections are refused) and brought up again on the same port. It counts
 * distinct {@code seq=N} markers, because rsyslog delivers at least once: a message in flight when
 * the connection failed is sent again.
 */
final class LineReceiver implements AutoCloseable {

  private static final Pattern SEQ = Pattern.compile("seq=(\\d+)");
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  private final int port;
  private final Set<Long> seqs = ConcurrentHashMap.newKeySet();
  private final AtomicLong lines = new AtomicLong();
  private final AtomicLong lastNewAtNanos = new AtomicLong();
  private final List<Socket> connections = new CopyOnWriteArrayList<>();
  private volatile ServerSocket server;

  private LineReceiver(int port) {
    this.port = port;
  }

  /** A receiver that is down, on a port that was free a moment ago. */
  static LineReceiver onFreePort() {
    try (ServerSocket probe = new ServerSocket(0, 1, LOOPBACK)) {
      return new LineReceiver(probe.getLocalPort());
    } catch (IOException e) {
      throw new UncheckedIOException("finding a free loopback port for the receiver", e);
    }
  }

  int port() {
    return port;
  }

  synchronized void up() {
    if (server != null) {
      return;
    }
    try {
      ServerSocket s = new ServerSocket();
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(LOOPBACK, port));
      server = s;
      Thread t = new Thread(() -> accept(s), "rsyslog-receiver-accept");
      t.setDaemon(true);
      t.start();
    } catch (IOException e) {
      throw new UncheckedIOException("receiver listening on 127.0.0.1:" + port, e);
    }
  }

  /** Stops listening and drops open connections, so rsyslog's sends fail. */
  synchronized void down() {
    ServerSocket s = server;
    server = null;
    closeQuietly(s);
    connections.forEach(LineReceiver::closeQuietly);
    connections.clear();
  }

  /** Distinct messages received. */
  int distinct() {
    return seqs.size();
  }

  /** Lines received, duplicates included. */
  long lines() {
    return lines.get();
  }

  /** {@link System#nanoTime()} when the last not-yet-seen message arrived; 0 if none. */
  long lastNewAtNanos() {
    return lastNewAtNanos.get();
  }

  private void accept(ServerSocket s) {
    while (!s.isClosed()) {
      try {
        Socket c = s.accept();
        connections.add(c);
        Thread t = new Thread(() -> read(c), "rsyslog-receiver-read");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return; // closed by down() or close()
      }
    }
  }

  private void read(Socket c) {
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        lines.incrementAndGet();
        Matcher m = SEQ.matcher(line);
        if (m.find() && seqs.add(Long.parseLong(m.group(1)))) {
          lastNewAtNanos.set(System.nanoTime());
        }
      }
    } catch (IOException e) {
      // the connection was dropped by down(); what was read is counted
    } finally {
      connections.remove(c);
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      // closing a socket on the way down: nothing to do about it
    }
  }

  @Override
  public void close() {
    down();
  }
}
