package dev.drainguard.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@link AgentMetrics#scrape()} at {@code GET /metrics} in the Prometheus text format; any
 * other path answers 404 and any method but GET or HEAD 405. Its threads are daemons: a server left
 * open never keeps the JVM alive. The caller chooses the address (the agent binds loopback unless
 * configured otherwise).
 */
public final class MetricsServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(MetricsServer.class);

  static final String PATH = "/metrics";

  /** What {@link AgentMetrics#scrape()} writes: the Prometheus text format, version 0.0.4. */
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  /** A scrape is a few kilobytes from memory: one thread serves any sane scrape interval. */
  private static final int THREADS = 1;

  private final HttpServer server;
  private final ExecutorService executor;
  private final int port;
  private final AtomicBoolean closed = new AtomicBoolean();

  private MetricsServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
    this.port = server.getAddress().getPort();
  }

  /**
   * Binds {@code bind:port} and starts serving.
   *
   * @param port 1 to 65535, or 0 for an ephemeral port (tests)
   * @throws UncheckedIOException when the address cannot be bound (in use, not local)
   */
  public static MetricsServer start(AgentMetrics metrics, InetAddress bind, int port) {
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(bind, port), 0);
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
    ExecutorService executor =
        Executors.newFixedThreadPool(
            THREADS,
            r -> {
              Thread t = new Thread(r, "drainguard-metrics");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.createContext("/", exchange -> handle(metrics, exchange));
    startAsDaemon(server);
    MetricsServer s = new MetricsServer(server, executor);
    log.info(
        "metrics server listening address={} port={} path={}",
        bind.getHostAddress(),
        s.port(),
        PATH);
    return s;
  }

  /**
   * The JDK server's dispatcher thread inherits the daemon flag of the thread that starts it, and
   * has no factory to set it: start it from a daemon thread.
   */
  private static void startAsDaemon(HttpServer server) {
    Thread starter = new Thread(server::start, "drainguard-metrics-start");
    starter.setDaemon(true);
    starter.start();
    try {
      starter.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.stop(0);
      throw new IllegalStateException("interrupted while starting the metrics server", e);
    }
  }

  private static void handle(AgentMetrics metrics, HttpExchange exchange) throws IOException {
    try {
      String method = exchange.getRequestMethod();
      if (!PATH.equals(exchange.getRequestURI().getPath())) {
        send(exchange, 404, "text/plain; charset=utf-8", "not found: try " + PATH + "\n", method);
      } else if (!"GET".equals(method) && !"HEAD".equals(method)) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        send(exchange, 405, "text/plain; charset=utf-8", "method not allowed\n", method);
      } else {
        send(exchange, 200, CONTENT_TYPE, metrics.scrape(), method);
      }
    } catch (RuntimeException e) {
      log.warn("metrics request failed path={} error={}", exchange.getRequestURI(), e.toString());
      throw e;
    } finally {
      exchange.close();
    }
  }

  private static void send(
      HttpExchange exchange, int status, String contentType, String body, String method)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    if ("HEAD".equals(method)) {
      exchange.sendResponseHeaders(status, -1);
      return;
    }
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  /** The port bound: the one asked for, or the ephemeral one chosen for port 0. */
  public int port() {
    return port;
  }

  /** Stops serving at once (a scrape in progress is dropped); idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    // stop(n) on JDK 17 waits the full n seconds even when no exchange is open.
    server.stop(0);
    executor.shutdownNow();
    log.info("metrics server stopped port={}", port());
  }
}
