package dev.drainguard.metrics;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@link AgentMetrics#scrape()} at {@code GET /metrics} in the Prometheus text format; any
 * other path answers 404 and any method but GET or HEAD 405. One request per connection ({@code
 * Connection: close}), which every scraper handles.
 *
 * <p>It cannot be held up by a client: {@link #HANDLERS} threads serve, a request's line and
 * headers must arrive within {@link #REQUEST_LIMIT} and its answer be taken within {@link
 * #WRITE_LIMIT}, or the connection is closed; connections beyond the handlers and a short queue are
 * closed at once. (It used to be the JDK's HttpServer with one thread and no timeouts: one
 * connection that sent one byte stopped every scrape.) Its threads are daemons. It binds loopback
 * unless told otherwise, and then only with the explicit opt-in, saying so at WARN.
 */
public final class MetricsServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(MetricsServer.class);

  static final String PATH = "/metrics";

  /** What {@link AgentMetrics#scrape()} writes: the Prometheus text format, version 0.0.4. */
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  /** Requests served at once: a scrape is a few KiB from memory, so a few threads are plenty. */
  static final int HANDLERS = 4;

  /** Accepted connections waiting for a handler; more are closed at once. */
  static final int WAITING = 16;

  /** A request line and its headers must arrive within this: a scraper sends them at once. */
  static final Duration REQUEST_LIMIT = Duration.ofSeconds(5);

  /** The answer (a few KiB) must be taken within this. */
  static final Duration WRITE_LIMIT = Duration.ofSeconds(10);

  /** Request line and headers larger than this are refused (431). */
  static final int MAX_HEAD = 8 * 1024;

  private final ServerSocket server;
  private final AgentMetrics metrics;
  private final ThreadPoolExecutor handlers;
  private final ScheduledExecutorService deadlines;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final java.util.Set<Socket> open = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private MetricsServer(ServerSocket server, AgentMetrics metrics) {
    this.server = server;
    this.metrics = metrics;
    this.handlers =
        new ThreadPoolExecutor(
            HANDLERS,
            HANDLERS,
            1,
            TimeUnit.MINUTES,
            new ArrayBlockingQueue<>(WAITING),
            daemon("drainguard-metrics"),
            new ThreadPoolExecutor.AbortPolicy());
    this.deadlines =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
            daemon("drainguard-metrics-deadline"));
    Thread acceptor = daemon("drainguard-metrics-accept").newThread(this::acceptLoop);
    acceptor.start();
  }

  /** As {@link #start(AgentMetrics, InetAddress, int, boolean)} for a loopback address. */
  public static MetricsServer start(AgentMetrics metrics, InetAddress bind, int port) {
    return start(metrics, bind, port, false);
  }

  /**
   * Binds {@code bind:port} and starts serving.
   *
   * @param port 1 to 65535, or 0 for an ephemeral port (tests)
   * @param allowRemote whether {@code bind} may be other than a loopback address
   *     (metrics-allow-remote); it is logged at WARN when it is
   * @throws IllegalArgumentException for an address that is not loopback without {@code
   *     allowRemote}
   * @throws UncheckedIOException when the address cannot be bound (in use, not local)
   */
  public static MetricsServer start(
      AgentMetrics metrics, InetAddress bind, int port, boolean allowRemote) {
    if (!bind.isLoopbackAddress() && !allowRemote) {
      throw new IllegalArgumentException(
          "metrics-bind "
              + bind.getHostAddress()
              + " is not a loopback address: set metrics-allow-remote to serve other hosts");
    }
    ServerSocket server;
    try {
      server = new ServerSocket();
      server.bind(new InetSocketAddress(bind, port), 50);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "metrics server cannot bind "
              + bind.getHostAddress()
              + " port "
              + port
              + ": "
              + e.getMessage()
              + "; choose another --metrics-port or --metrics-bind",
          e);
    }
    MetricsServer s = new MetricsServer(server, metrics);
    if (bind.isLoopbackAddress()) {
      log.info(
          "metrics server listening address={} port={} path={}",
          bind.getHostAddress(),
          s.port(),
          PATH);
    } else {
      log.warn(
          "metrics server listening on a non-loopback address={} port={} path={}"
              + " (metrics-allow-remote): other hosts can read the metrics; restrict it with a"
              + " security group or firewall",
          bind.getHostAddress(),
          s.port(),
          PATH);
    }
    return s;
  }

  private void acceptLoop() {
    while (!closed.get()) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        if (!closed.get()) {
          log.warn("metrics accept failed port={} error={}", port(), e.toString());
        }
        continue;
      }
      try {
        handlers.execute(() -> serve(client));
      } catch (RejectedExecutionException e) {
        closeQuietly(client); // every handler busy and the queue full: the scraper retries
      }
    }
  }

  private void serve(Socket client) {
    open.add(client);
    if (closed.get()) {
      closeQuietly(client);
    }
    try (client) {
      String head = within(client, REQUEST_LIMIT, () -> readHead(client.getInputStream()));
      Response r = respond(head);
      within(
          client,
          WRITE_LIMIT,
          () -> {
            OutputStream out = client.getOutputStream();
            out.write(r.bytes());
            out.flush();
            return null;
          });
    } catch (IOException e) {
      log.debug("metrics client gone: {}", e.toString());
    } catch (RuntimeException e) {
      log.warn("metrics request failed error={}", e.toString());
    } finally {
      open.remove(client);
    }
  }

  /** The answer to a request whose line and headers are {@code head} (null: too large). */
  private Response respond(String head) {
    if (head == null) {
      return new Response(431, "text/plain; charset=utf-8", "request headers too large\n", true);
    }
    String[] line = head.lines().findFirst().orElse("").split(" ");
    if (line.length != 3 || !line[2].startsWith("HTTP/1.")) {
      return new Response(400, "text/plain; charset=utf-8", "bad request\n", true);
    }
    String method = line[0];
    String path = line[1].split("\\?", 2)[0];
    boolean body = !"HEAD".equals(method);
    if (!PATH.equals(path)) {
      return new Response(404, "text/plain; charset=utf-8", "not found: try " + PATH + "\n", body);
    }
    if (!"GET".equals(method) && !"HEAD".equals(method)) {
      return new Response(405, "text/plain; charset=utf-8", "method not allowed\n", body);
    }
    return new Response(200, CONTENT_TYPE, metrics.scrape(), body);
  }

  /** One HTTP/1.1 answer; the connection closes after it. */
  private record Response(int status, String contentType, String text, boolean body) {
    byte[] bytes() {
      byte[] payload = text.getBytes(StandardCharsets.UTF_8);
      String head =
          String.format(
              Locale.ROOT,
              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%sConnection: close\r\n\r\n",
              status,
              reason(status),
              contentType,
              payload.length,
              status == 405 ? "Allow: GET, HEAD\r\n" : "");
      byte[] h = head.getBytes(StandardCharsets.US_ASCII);
      if (!body) {
        return h;
      }
      byte[] all = new byte[h.length + payload.length];
      System.arraycopy(h, 0, all, 0, h.length);
      System.arraycopy(payload, 0, all, h.length, payload.length);
      return all;
    }

    private static String reason(int status) {
      return switch (status) {
        case 200 -> "OK";
        case 400 -> "Bad Request";
        case 404 -> "Not Found";
        case 405 -> "Method Not Allowed";
        default -> "Request Header Fields Too Large";
      };
    }
  }

  /** The request line and headers, up to the blank line; null when larger than MAX_HEAD. */
  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    int newlines = 0;
    while ((c = in.read()) != -1) {
      if (b.size() >= MAX_HEAD) {
        return null;
      }
      b.write(c);
      if (c == '\n') {
        if (++newlines == 2) {
          break;
        }
      } else if (c != '\r') {
        newlines = 0;
      }
    }
    if (newlines < 2) {
      throw new IOException("connection closed before the request's headers ended");
    }
    return b.toString(StandardCharsets.ISO_8859_1);
  }

  private interface Io<T> {
    T run() throws IOException;
  }

  /**
   * Runs {@code io}, closing {@code client} (which ends it with an exception) past {@code limit}.
   */
  private <T> T within(Socket client, Duration limit, Io<T> io) throws IOException {
    ScheduledFuture<?> cutOff =
        deadlines.schedule(() -> closeQuietly(client), limit.toMillis(), TimeUnit.MILLISECONDS);
    try {
      return io.run();
    } finally {
      cutOff.cancel(false);
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // nothing more to release
    }
  }

  private static ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /** The port bound: the one asked for, or the ephemeral one chosen for port 0. */
  public int port() {
    return server.getLocalPort();
  }

  /** Stops serving at once (a scrape in progress is dropped); idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    int port = port();
    try {
      server.close();
    } catch (IOException e) {
      log.debug("metrics server close: {}", e.toString());
    }
    handlers.shutdownNow();
    deadlines.shutdownNow();
    open.forEach(MetricsServer::closeQuietly);
    log.info("metrics server stopped port={}", port);
  }
}
