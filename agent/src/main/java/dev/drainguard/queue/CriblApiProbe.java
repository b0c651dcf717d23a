package dev.drainguard.queue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drainguard.net.EndpointRefusedException;
import dev.drainguard.net.LoopbackGuard;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks the worker's own Cribl API what its persistent queues hold: {@code GET
 * /api/v1/system/metrics} filtered to {@code pq.queue_size}, once per worker process ({@code wp=0}
 * to {@code wp=N-1}), each answer's latest time bucket summed per output or input. N is configured,
 * or with {@code auto} learned at every reading; see {@link CriblWorkers}. A refused token, a 5xx,
 * no whole answer within the timeout, a worker process whose answer holds no {@code pq.queue_size},
 * or one more process ({@code wp=N}) answering with {@code pq.queue_size} is unknown, never empty.
 *
 * <p>The answer is {@code {"results":{"metrics":[BUCKET...]}}} where a bucket maps each metric name
 * to entries {@code {"model":{"output":"type:id"},"val":N}} and {@code _time} to {@code
 * [{"val":EPOCH_SECONDS}]}.
 */
public final class CriblApiProbe implements Probe {

  private static final Logger log = LoggerFactory.getLogger(CriblApiProbe.class);

  public static final String NAME = "cribl";

  /** {@code cribl-worker-processes = auto}: learn the count from the API at every reading. */
  public static final int AUTO = 0;

  static final String METRIC = "pq.queue_size";
  static final String PATH = "/api/v1/system/metrics";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final URI base;
  private final Optional<Path> tokenFile;
  private final int workerProcesses;
  private final Duration timeout;
  private final LoopbackGuard guard;
  private final Clock clock;
  private final CriblHttp http;
  private final IntSupplier cpus;
  private final int agentUid;
  private volatile CriblWorkers inUse;

  /**
   * @param base the worker's API, e.g. {@code http://127.0.0.1:9000}
   * @param tokenFile holds the bearer token on its first line; read at every probe
   * @param workerProcesses how many worker processes the node runs, or {@link #AUTO}
   * @param timeout for the whole reading, every request and every body included
   */
  public CriblApiProbe(
      URI base,
      Optional<Path> tokenFile,
      int workerProcesses,
      Duration timeout,
      LoopbackGuard guard,
      Clock clock) {
    this(
        base,
        tokenFile,
        workerProcesses,
        timeout,
        guard,
        clock,
        CriblWorkers::hostCpus,
        CriblToken.agentUid());
  }

  CriblApiProbe(
      URI base,
      Optional<Path> tokenFile,
      int workerProcesses,
      Duration timeout,
      LoopbackGuard guard,
      Clock clock,
      IntSupplier cpus,
      int agentUid) {
    if (workerProcesses < 0) {
      throw new IllegalArgumentException(
          "workerProcesses must be >= 0 (0: auto): " + workerProcesses);
    }
    this.base = base;
    this.tokenFile = tokenFile;
    this.workerProcesses = workerProcesses;
    this.timeout = timeout;
    this.guard = guard;
    this.clock = clock;
    this.http = new CriblHttp(timeout);
    this.cpus = cpus;
    this.agentUid = agentUid;
    this.inUse = workerProcesses == AUTO ? null : CriblWorkers.configured(workerProcesses);
  }

  @Override
  public String name() {
    return NAME;
  }

  /** The request, and how many worker processes are asked and why (after a reading in auto). */
  @Override
  public String describe() {
    CriblWorkers w = inUse;
    String count =
        w == null
            ? "worker processes: auto (from " + CriblWorkers.SETTINGS_PATH + "), not read yet"
            : w.count()
                + (w.count() == 1 ? " worker process" : " worker processes")
                + " ("
                + w.source()
                + ")";
    return "Cribl API " + uri(0) + " for " + count;
  }

  /** The request for worker process {@code wp}. */
  URI uri(int wp) {
    return URI.create(
        root()
            + PATH
            + "?wp="
            + wp
            + "&numBuckets=1&metricNameFilter="
            + URLEncoder.encode("^pq\\.queue_size$", StandardCharsets.UTF_8));
  }

  private String root() {
    return base.toString().replaceAll("/+$", "");
  }

  @Override
  public ProbeReading read() {
    Instant started = clock.instant();
    Instant deadline = started.plus(timeout);
    try {
      String token = token();
      CriblWorkers workers = workers(token, deadline);
      note(workers);
      List<QueueReading> queues = new ArrayList<>();
      Instant measured = started;
      for (int wp = 0; wp < workers.count(); wp++) {
        CriblHttp.Answer a = get(uri(wp), token, deadline, "worker process " + wp);
        if (a.status() != 200) {
          throw new Unknown(status(wp, a.status()));
        }
        try {
          measured = CriblBuckets.measuredBy(wp, a.body(), started, measured);
          queues.addAll(parse(wp, a.body()));
        } catch (IllegalArgumentException e) {
          throw new Unknown(
              "worker process " + wp + ": " + e.getMessage() + " (" + expected(workers) + ")");
        }
      }
      oneMore(workers, token, deadline);
      return ProbeReading.known(NAME, measured, queues);
    } catch (Unknown e) {
      return ProbeReading.unknown(NAME, started, "Cribl API " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return ProbeReading.unknown(NAME, started, "Cribl API interrupted");
    }
  }

  /** Why a reading cannot tell; the message never holds the token. */
  static final class Unknown extends Exception {
    Unknown(String message) {
      super(message);
    }
  }

  private String token() throws Unknown {
    if (tokenFile.isEmpty()) {
      return "";
    }
    try {
      return CriblToken.read(tokenFile.get(), agentUid);
    } catch (CriblToken.Refused e) {
      throw new Unknown(e.getMessage());
    }
  }

  /** The count in force: configured, or from the node's settings, else Cribl's defaults. */
  private CriblWorkers workers(String token, Instant deadline)
      throws Unknown, InterruptedException {
    if (workerProcesses != AUTO) {
      return CriblWorkers.configured(workerProcesses);
    }
    int n = cpus.getAsInt();
    URI settings = URI.create(root() + CriblWorkers.SETTINGS_PATH);
    CriblHttp.Answer a = get(settings, token, deadline, "worker process count");
    if (a.status() != 200) {
      return CriblWorkers.defaults(n, "its settings answered HTTP " + a.status());
    }
    try {
      return CriblWorkers.fromSettings(a.body(), n);
    } catch (IllegalArgumentException e) {
      return CriblWorkers.defaults(n, e.getMessage());
    }
  }

  /**
   * Asks worker process N, one past the count: if it answers with {@code pq.queue_size}, more
   * processes run than are read, and their queues would go unseen. A failure or no metric is what a
   * process that does not run answers.
   */
  private void oneMore(CriblWorkers workers, String token, Instant deadline)
      throws Unknown, InterruptedException {
    int wp = workers.count();
    CriblHttp.Answer a;
    try {
      a = get(uri(wp), token, deadline, "worker process " + wp);
    } catch (Unknown e) {
      return;
    }
    if (a.status() != 200) {
      return;
    }
    List<QueueReading> extra;
    try {
      extra = parse(wp, a.body());
    } catch (IllegalArgumentException e) {
      return;
    }
    throw new Unknown(
        "worker process "
            + wp
            + " answers with "
            + METRIC
            + " ("
            + extra.size()
            + " queues) although only "
            + expected(workers)
            + ": more processes run than are read; set cribl-worker-processes to how many run");
  }

  private CriblHttp.Answer get(URI uri, String token, Instant deadline, String what)
      throws Unknown, InterruptedException {
    Duration left = Duration.between(clock.instant(), deadline);
    if (left.isNegative() || left.isZero()) {
      throw new Unknown(what + ": no answer within " + timeout);
    }
    try {
      guard.check("Cribl API", uri);
      return http.get(uri, token, left);
    } catch (TimeoutException e) {
      throw new Unknown(what + ": no answer within " + timeout);
    } catch (IOException e) {
      throw new Unknown(what + ": " + e.getClass().getSimpleName() + " " + e.getMessage());
    } catch (EndpointRefusedException e) {
      throw new Unknown(what + ": " + e.getMessage());
    }
  }

  private void note(CriblWorkers now) {
    CriblWorkers before = inUse;
    inUse = now;
    if (!now.equals(before)) {
      log.info(
          "cribl probe reads worker processes count={} source=\"{}\"", now.count(), now.source());
    }
  }

  private static String expected(CriblWorkers w) {
    return w.count()
        + (w.count() == 1 ? " worker process is" : " worker processes are")
        + " expected, "
        + w.source();
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
}
