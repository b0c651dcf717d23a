package dev.drainguard.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;

/**
 * A Cribl worker's REST API on loopback, as far as the Cribl probe uses it: {@code GET
 * /api/v1/system/metrics?wp=N}, answered per worker process with {@code
 * {"results":{"metrics":[{"_time":[{"val":T}],"pq.queue_size":[{"model":{"output":…},"val":N}]}]}}}
 * unless the test set a fault (a worker process it set nothing for answers 400), and {@code GET
 * /api/v1/system/settings/conf}, which by default says {@code workers.count 1, minimum 1} (one
 * worker process, whatever the CPUs). Every request is recorded.
 */
public final class CriblApiStub implements AutoCloseable {

  /** What one worker process answers. */
  public sealed interface Answer {}

  /** Its persistent queues, output id to bytes: the shape Cribl's API answers with. */
  public record Queues(Map<String, Long> bytesByOutput) implements Answer {}

  /** A bucket without pq.queue_size: the worker process reported no such metric. */
  public record NoMetric() implements Answer {}

  /** An HTTP error status with a body. */
  public record Status(int code, String body) implements Answer {}

  /** A valid answer, sent only after {@code delay}. */
  public record Slow(Duration delay, Answer then) implements Answer {}

  /**
   * Status 200 with headers that announce {@code body}'s length, then only the first half of {@code
   * body}; the rest never comes (the connection stays open until the stub closes).
   */
  public record StallMidBody(String body) implements Answer {}

  /** The workers settings {@code GET /api/v1/system/settings/conf} answers with. */
  public static String settings(int count, int minimum) {
    return "{\"count\":1,\"items\":[{\"api\":{\"host\":\"0.0.0.0\",\"port\":9000},\"workers\":{\"count\":"
        + count
        + ",\"minimum\":"
        + minimum
        + ",\"memory\":2048}}]}";
  }

  /** One request as received. */
  public record Request(String path, String query, String authorization) {}

  private final HttpServer server;
  private final Map<Integer, Answer> answers = new ConcurrentHashMap<>();
  private volatile Answer settings = new Status(200, settings(1, 1));
  private final CountDownLatch closed = new CountDownLatch(1);
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private volatile long time = Long.MIN_VALUE;
  private volatile boolean itemsEnvelope;

  private CriblApiStub(HttpServer server) {
    this.server = server;
  }

  public static CriblApiStub start() {
    try {
      HttpServer server =
          HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      CriblApiStub stub = new CriblApiStub(server);
      server.createContext("/api/v1/system/metrics", stub::handle);
      server.createContext("/api/v1/system/settings/conf", stub::handleSettings);
      server.setExecutor(Executors.newCachedThreadPool());
      server.start();
      return stub;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public URI url() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  /** Sets what worker process {@code wp} answers from now on. */
  public void answer(int wp, Answer a) {
    answers.put(wp, a);
  }

  /** Sets what {@code GET /api/v1/system/settings/conf} answers from now on. */
  public void settingsAnswer(Answer a) {
    settings = a;
  }

  /**
   * Answers in the list shape of Cribl's published API reference, {@code {"count":1,"items":[…]}},
   * instead of {@code {"results":{"metrics":[…]}}}.
   */
  public void useItemsEnvelope() {
    itemsEnvelope = true;
  }

  /** Worker process {@code wp}'s one output {@code output} holds {@code bytes}. */
  public void queue(int wp, String output, long bytes) {
    answer(wp, new Queues(Map.of(output, bytes)));
  }

  public List<Request> requests() {
    return List.copyOf(requests);
  }

  /** The metrics requests for worker process {@code wp}. */
  public List<Request> requests(int wp) {
    return requests.stream()
        .filter(r -> r.query() != null && r.query().startsWith("wp=" + wp + "&"))
        .toList();
  }

  private void handleSettings(HttpExchange ex) throws IOException {
    requests.add(
        new Request(
            ex.getRequestURI().getPath(), null, ex.getRequestHeaders().getFirst("Authorization")));
    send(ex, settings);
  }

  private void handle(HttpExchange ex) throws IOException {
    String query = ex.getRequestURI().getRawQuery();
    requests.add(
        new Request(
            ex.getRequestURI().getPath(), query, ex.getRequestHeaders().getFirst("Authorization")));
    int wp = -1;
    for (String part : query == null ? new String[0] : query.split("&")) {
      if (part.startsWith("wp=")) {
        wp = Integer.parseInt(part.substring(3));
      }
    }
    Answer a = answers.getOrDefault(wp, new Status(400, "{\"status\":\"error\"}"));
    send(ex, a);
  }

  private void send(HttpExchange ex, Answer a) throws IOException {
    if (a instanceof Slow s) {
      try {
        Thread.sleep(s.delay().toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      send(ex, s.then());
    } else if (a instanceof StallMidBody s) {
      byte[] b = s.body().getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", "application/json");
      ex.sendResponseHeaders(200, b.length);
      OutputStream out = ex.getResponseBody();
      out.write(b, 0, b.length / 2);
      out.flush();
      try {
        closed.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      ex.close();
    } else if (a instanceof Status s) {
      write(ex, s.code(), s.body());
    } else if (a instanceof NoMetric) {
      write(ex, 200, envelope(bucketStart()));
    } else if (a instanceof Queues q) {
      StringBuilder entries = new StringBuilder();
      q.bytesByOutput()
          .forEach(
              (output, bytes) -> {
                if (!entries.isEmpty()) {
                  entries.append(',');
                }
                entries
                    .append("{\"model\":{\"output\":\"")
                    .append(output)
                    .append("\"},\"val\":")
                    .append(bytes)
                    .append('}');
              });
      write(ex, 200, envelope(bucketStart() + ",\"pq.queue_size\":[" + entries + "]"));
    }
  }

  private String bucketStart() {
    // Cribl's latest bucket is from a few seconds ago; a test that wants old buckets sets them.
    long now = java.time.Instant.now().getEpochSecond();
    time = Math.max(time == Long.MIN_VALUE ? now : time + 1, now);
    return "\"_time\":[{\"val\":" + time + "}]";
  }

  private String envelope(String bucket) {
    return itemsEnvelope
        ? "{\"count\":1,\"items\":[{" + bucket + "}]}"
        : "{\"results\":{\"exactMatch\":true,\"metrics\":[{" + bucket + "}]}}";
  }

  private static void write(HttpExchange ex, int code, String body) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(code, b.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(b);
    }
  }

  @Override
  public void close() {
    closed.countDown();
    server.stop(0);
  }
}
