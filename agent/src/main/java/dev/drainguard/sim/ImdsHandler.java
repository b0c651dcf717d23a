package dev.drainguard.sim;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The instance metadata service (IMDSv2 only) of the one instance the model says IMDS speaks for.
 *
 * <p>{@code PUT /latest/api/token} issues a session token; every GET must carry a valid one, else
 * 401 (a GET without a token is IMDSv1, which this instance does not allow).
 */
final class ImdsHandler implements HttpHandler {

  private static final Logger log = LoggerFactory.getLogger(ImdsHandler.class);

  static final String TOKEN_PATH = "/latest/api/token";
  static final String TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds";
  static final String TOKEN_HEADER = "X-aws-ec2-metadata-token";

  /** IMDS accepts token lifetimes of 1 second to 6 hours. */
  static final int MAX_TTL_SECONDS = 21_600;

  private static final String META_DATA = "/latest/meta-data/";
  private static final String GROUP_TAG = "tags/instance/aws:autoscaling:groupName";
  private static final String SPOT_ACTION = "spot/instance-action";
  private static final String REBALANCE = "events/recommendations/rebalance";
  private static final String ROLES = "iam/security-credentials/";

  /**
   * The instance profile IMDS speaks for: its role, and the document of that role, either keys
   * ({@code code} {@code Success}) or a failure code with no keys.
   */
  record InstanceProfile(
      String role,
      String code,
      String accessKeyId,
      String secretAccessKey,
      String token,
      Instant expiration) {

    String document() {
      if (!code.equals("Success")) {
        return "{\n  \"Code\" : \""
            + json(code)
            + "\",\n  \"Message\" : \"EC2 cannot assume the role "
            + json(role)
            + ".\"\n}";
      }
      return "{\n  \"Code\" : \"Success\",\n  \"Type\" : \"AWS-HMAC\",\n  \"AccessKeyId\" : \""
          + json(accessKeyId)
          + "\",\n  \"SecretAccessKey\" : \""
          + json(secretAccessKey)
          + "\",\n  \"Token\" : \""
          + json(token)
          + "\",\n  \"Expiration\" : \""
          + utcSeconds(expiration)
          + "\"\n}";
    }

    private static String json(String s) {
      return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }
  }

  private record Reply(int status, String body, Map<String, String> headers) {
    static Reply of(int status, String body) {
      return new Reply(status, body, Map.of());
    }
  }

  private final SimModel model;
  private final ImdsTokens tokens;
  private volatile boolean available = true;
  private int delaysLeft;
  private Duration latency = Duration.ZERO;
  private volatile BiConsumer<String, Duration> afterDelay = (path, d) -> {};
  private int failuresLeft;
  private int failureStatus;
  private int corruptLeft;
  private String corruptBody;
  private volatile Optional<InstanceProfile> instanceProfile = Optional.empty();

  ImdsHandler(SimModel model, ImdsTokens tokens) {
    this.model = model;
    this.tokens = tokens;
  }

  void setAvailable(boolean up) {
    available = up;
  }

  synchronized void failNext(int times, int httpStatus) {
    failuresLeft = times;
    failureStatus = httpStatus;
  }

  synchronized void delayNext(int times, Duration d) {
    if (d.isNegative()) {
      throw new IllegalArgumentException("IMDS latency must not be negative: " + d);
    }
    delaysLeft = times;
    latency = d;
  }

  void afterDelay(BiConsumer<String, Duration> listener) {
    afterDelay = listener;
  }

  void setInstanceProfile(Optional<InstanceProfile> profile) {
    instanceProfile = profile;
  }

  synchronized void corruptNext(int times, String body) {
    corruptLeft = times;
    corruptBody = body;
  }

  /** The GETs answered so far, by path (the simulator lives as long as a test or the demo). */
  private final Map<String, LongAdder> gets = new ConcurrentHashMap<>();

  long gets(String path) {
    LongAdder n = gets.get(path);
    return n == null ? 0 : n.sum();
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String method = exchange.getRequestMethod();
      String path = exchange.getRequestURI().getPath();
      if (!available) {
        // Closing without a response drops the connection: the client sees an I/O error.
        log.debug("imds request dropped method={} path={} reason=unavailable", method, path);
        return;
      }
      Duration delay = takeDelay();
      if (!HttpIo.pause(delay)) {
        return; // the simulator is closing
      }
      if (!delay.isZero()) {
        afterDelay.accept(path, delay);
      }
      if (method.equals("GET")) {
        gets.computeIfAbsent(path, p -> new LongAdder()).increment();
      }
      Reply reply = reply(method, path, exchange.getRequestHeaders());
      log.debug("imds request method={} path={} status={}", method, path, reply.status());
      reply.headers().forEach((k, v) -> exchange.getResponseHeaders().set(k, v));
      HttpIo.send(exchange, reply.status(), "text/plain", reply.body());
    }
  }

  private Reply reply(String method, String path, Headers headers) {
    if (method.equals("PUT") && path.equals(TOKEN_PATH)) {
      return issueToken(headers.getFirst(TTL_HEADER));
    }
    if (!method.equals("GET") || path.equals(TOKEN_PATH)) {
      return Reply.of(405, "Method Not Allowed");
    }
    Optional<Integer> injected = takeFailure();
    if (injected.isPresent()) {
      return Reply.of(injected.get(), "injected failure");
    }
    Optional<String> corrupt = takeCorruption();
    if (corrupt.isPresent()) {
      return Reply.of(200, corrupt.get());
    }
    if (!tokens.valid(headers.getFirst(TOKEN_HEADER))) {
      return Reply.of(401, "Unauthorized");
    }
    if (!path.startsWith(META_DATA)) {
      return Reply.of(404, "Not Found");
    }
    String item = path.substring(META_DATA.length());
    if (item.startsWith(ROLES)) {
      return instanceProfile(item.substring(ROLES.length()))
          .map(value -> Reply.of(200, value))
          .orElseGet(() -> Reply.of(404, "Not Found"));
    }
    return model
        .imdsView()
        .flatMap(view -> metadata(view, item))
        .map(value -> Reply.of(200, value))
        .orElseGet(() -> Reply.of(404, "Not Found"));
  }

  /** The role's name at {@code iam/security-credentials/}, its document under its name. */
  private Optional<String> instanceProfile(String role) {
    Optional<InstanceProfile> p = instanceProfile;
    if (role.isEmpty()) {
      return p.map(InstanceProfile::role);
    }
    return p.filter(i -> i.role().equals(role)).map(InstanceProfile::document);
  }

  private static Optional<String> metadata(SimModel.ImdsView view, String item) {
    return switch (item) {
      case "instance-id" -> Optional.of(view.instanceId());
      case "placement/region" -> Optional.of(view.region());
      case "placement/availability-zone" -> Optional.of(view.region() + "a");
      case "autoscaling/target-lifecycle-state" ->
          view.groupName().map(g -> view.targetLifecycleState());
      case GROUP_TAG -> view.metadataTagsEnabled() ? view.groupName() : Optional.empty();
      case SPOT_ACTION ->
          view.spotAction()
              .map(
                  a ->
                      "{\"action\":\""
                          + a.action()
                          + "\",\"time\":\""
                          + utcSeconds(a.time())
                          + "\"}");
      case REBALANCE ->
          view.rebalanceNoticeTime().map(t -> "{\"noticeTime\":\"" + utcSeconds(t) + "\"}");
      case "instance-life-cycle" -> Optional.of(view.purchasingOption());
      default -> Optional.empty();
    };
  }

  /** The timestamp format of IMDS's JSON documents: {@code 2026-01-01T00:02:00Z}. */
  private static String utcSeconds(Instant t) {
    return DateTimeFormatter.ISO_INSTANT.format(t.truncatedTo(ChronoUnit.SECONDS));
  }

  private Reply issueToken(String ttlHeader) {
    int ttl;
    try {
      ttl = ttlHeader == null ? -1 : Integer.parseInt(ttlHeader.trim());
    } catch (NumberFormatException e) {
      ttl = -1;
    }
    if (ttl < 1 || ttl > MAX_TTL_SECONDS) {
      return Reply.of(400, "Bad Request");
    }
    String token = tokens.issue(Duration.ofSeconds(ttl));
    return new Reply(200, token, Map.of(TTL_HEADER, Integer.toString(ttl)));
  }

  private synchronized Duration takeDelay() {
    if (delaysLeft <= 0) {
      return Duration.ZERO;
    }
    delaysLeft--;
    return latency;
  }

  private synchronized Optional<String> takeCorruption() {
    if (corruptLeft <= 0) {
      return Optional.empty();
    }
    corruptLeft--;
    return Optional.of(corruptBody);
  }

  private synchronized Optional<Integer> takeFailure() {
    if (failuresLeft <= 0) {
      return Optional.empty();
    }
    failuresLeft--;
    return Optional.of(failureStatus);
  }
}
