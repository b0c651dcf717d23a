package dev.drainguard.queue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drainguard.net.EndpointRefusedException;
import dev.drainguard.net.LoopbackGuard;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;

/**
 * Asks the worker's own Cribl API what its persistent queues hold: {@code GET
 * /api/v1/system/metrics} filtered to {@code pq.queue_size}, once per worker process ({@code wp=0}
 * to {@code wp=N-1}), each answer's latest time bucket summed per output or input. A refused token,
 * a 5xx, a timeout, or a worker process whose answer holds no {@code pq.queue_size} is unknown,
 * never empty.
 *
 * <p>The answer is {@code {"results":{"metrics":[BUCKET...]}}} where a bucket maps each metric name
 * to entries {@code {"model":{"output":"type:id"},"val":N}} and {@code _time} to {@code
 * [{"val":EPOCH_SECONDS}]}.
 */
public final class CriblApiProbe implements Probe {

  public static final String NAME = "cribl";

  static final String METRIC = "pq.queue_size";
  static final String PATH = "/api/v1/system/metrics";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final URI base;
  private final Optional<Path> tokenFile;
  private final int workerProcesses;
  private final Duration timeout;
  private final LoopbackGuard guard;
  private final Clock clock;
  private final HttpClient http;

  /**
   * @param base the worker's API, e.g. {@code http://127.0.0.1:9000}
   * @param tokenFile holds the bearer token; read at every probe
   * @param workerProcesses how many worker processes the node runs; each must report
   * @param timeout for the whole reading, every worker process included
   */
  public CriblApiProbe(
      URI base,
      Optional<Path> tokenFile,
      int workerProcesses,
      Duration timeout,
      LoopbackGuard guard,
      Clock clock) {
    if (workerProcesses < 1) {
      throw new IllegalArgumentException("workerProcesses must be >= 1: " + workerProcesses);
    }
    this.base = base;
    this.tokenFile = tokenFile;
    this.workerProcesses = workerProcesses;
    this.timeout = timeout;
    this.guard = guard;
    this.clock = clock;
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(timeout)
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String describe() {
    return "Cribl API " + uri(0) + " for " + workerProcesses + " worker process(es)";
  }

  /** The request for worker process {@code wp}. */
  URI uri(int wp) {
    String root = base.toString().replaceAll("/+$", "");
    return URI.create(
        root
            + PATH
            + "?wp="
            + wp
            + "&numBuckets=1&metricNameFilter="
            + URLEncoder.encode("^pq\\.queue_size$", StandardCharsets.UTF_8));
  }

  @Override
  public ProbeReading read() {
    Instant deadline = clock.instant().plus(timeout);
    String token;
    try {
      token = token();
    } catch (IOException e) {
      return unknown("token file " + tokenFile.orElseThrow() + " cannot be read: " + e);
    }
    List<QueueReading> queues = new ArrayList<>();
    for (int wp = 0; wp < workerProcesses; wp++) {
      Duration left = Duration.between(clock.instant(), deadline);
      if (left.isNegative() || left.isZero()) {
        return unknown("no answer for every worker process within " + timeout);
      }
      URI uri = uri(wp);
      try {
        guard.check("Cribl API", uri);
        HttpRequest.Builder req = HttpRequest.newBuilder(uri).timeout(left).GET();
        req.header("Accept", "application/json");
        if (!token.isEmpty()) {
          req.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> res = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
        if (res.statusCode() != 200) {
          return unknown(status(wp, res.statusCode()));
        }
        queues.addAll(parse(wp, res.body()));
      } catch (HttpTimeoutException e) {
        return unknown("worker process " + wp + ": no answer within " + timeout);
      } catch (IOException e) {
        return unknown("worker process " + wp + ": " + e);
      } catch (IllegalArgumentException | EndpointRefusedException e) {
        return unknown("worker process " + wp + ": " + e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return unknown("interrupted");
      }
    }
    return ProbeReading.known(NAME, clock.instant(), queues);
  }

  private String token() throws IOException {
    if (tokenFile.isEmpty()) {
      return "";
    }
    return Files.readString(tokenFile.get(), StandardCharsets.UTF_8).strip();
  }

  private String status(int wp, int code) {
    String what = "worker process " + wp + ": HTTP " + code;
    if (code == 401 || code == 403) {
      return what
          + ", the token"
          + tokenFile.map(f -> " in " + f).orElse(" (none: set --cribl-token-file)")
          + " was refused";
    }
    return what;
  }

  /**
   * The {@code pq.queue_size} entries of the latest bucket, named {@code wN:output:type:id}.
   * Package-private for tests.
   *
   * @throws IllegalArgumentException when the answer is malformed or has no {@code pq.queue_size}
   */
  static List<QueueReading> parse(int wp, String body) {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (IOException e) {
      throw new IllegalArgumentException("the answer is not JSON");
    }
    JsonNode buckets = root == null ? null : root.path("results").path("metrics");
    if (buckets == null || !buckets.isArray()) {
      buckets = root == null ? null : root.path("items");
    }
    if (buckets == null || !buckets.isArray()) {
      throw new IllegalArgumentException("the answer has no results.metrics or items array");
    }
    JsonNode latest = null;
    long latestTime = Long.MIN_VALUE;
    for (JsonNode bucket : buckets) {
      long t = bucket.path("_time").path(0).path("val").asLong(Long.MIN_VALUE);
      if (latest == null || t >= latestTime) {
        latest = bucket;
        latestTime = t;
      }
    }
    JsonNode entries = latest == null ? null : latest.get(METRIC);
    if (entries == null || !entries.isArray() || entries.isEmpty()) {
      throw new IllegalArgumentException("no " + METRIC + " in the answer");
    }
    List<QueueReading> out = new ArrayList<>();
    for (JsonNode e : entries) {
      JsonNode val = e.path("val");
      if (!val.isNumber() || val.asDouble() < 0) {
        throw new IllegalArgumentException(METRIC + " entry without a non-negative val: " + e);
      }
      out.add(new QueueReading("w" + wp + ":" + queueName(e.path("model")), val.asLong()));
    }
    return out;
  }

  /** {@code output:type:id} or {@code input:type:id}, else the model's fields as written. */
  private static String queueName(JsonNode model) {
    if (model.hasNonNull("output")) {
      return "output:" + model.get("output").asText();
    }
    if (model.hasNonNull("input")) {
      return "input:" + model.get("input").asText();
    }
    List<String> parts = new ArrayList<>();
    for (Iterator<String> it = model.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      parts.add(f + "=" + model.get(f).asText());
    }
    return parts.isEmpty() ? "queue" : String.join(",", parts);
  }

  private ProbeReading unknown(String why) {
    return ProbeReading.unknown(NAME, clock.instant(), "Cribl API " + why);
  }
}
