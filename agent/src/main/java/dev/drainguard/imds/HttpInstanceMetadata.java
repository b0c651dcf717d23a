package dev.drainguard.imds;

import dev.drainguard.net.BoundedHttp;
import dev.drainguard.net.Endpoint;
import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.net.RetryPolicy;
import dev.drainguard.net.Sleeper;
import dev.drainguard.status.JsonReader;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link InstanceMetadata} over IMDSv2, spoken directly: one {@link BoundedHttp} exchange per read,
 * a session token kept for its lifetime and asked for again when IMDS refuses it (401). Failures
 * that may pass (5xx, no answer, a dropped connection) are retried with {@link RetryPolicy}; any
 * other status is final at once.
 *
 * <p>Not the AWS SDK's IMDS client: the agent polls every 5 s for the life of the instance, and
 * that client brought some thousand classes, their memory and a few milliseconds of CPU per
 * interpreted poll for three GETs of a few bytes each (issue 15).
 */
public final class HttpInstanceMetadata implements InstanceMetadata, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(HttpInstanceMetadata.class);

  /** The longest IMDS allows: the fewer token PUTs, the fewer chances to fail. */
  static final Duration TOKEN_TTL = Duration.ofHours(6);

  /** A token is asked for again this long before IMDS would let it expire. */
  static final Duration TOKEN_RENEW_BEFORE = Duration.ofMinutes(5);

  /** IMDS is link-local: a connection that takes longer than this is not coming. */
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);

  /** IMDS answers in milliseconds; a slow answer is a fault to retry, not to wait for. */
  static final Duration READ_TIMEOUT = Duration.ofSeconds(2);

  /**
   * One exchange as a whole, connect, headers and body: IMDS answers in milliseconds, and a body
   * that trickles in a byte at a time (each read inside READ_TIMEOUT) must not hold a poll for
   * ever.
   */
  static final Duration EXCHANGE_LIMIT = Duration.ofSeconds(3);

  static final String PATH_TOKEN = "/latest/api/token";
  static final String TOKEN_TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds";
  static final String TOKEN_HEADER = "X-aws-ec2-metadata-token";
  static final String PATH_INSTANCE_ID = "/latest/meta-data/instance-id";
  static final String PATH_REGION = "/latest/meta-data/placement/region";
  static final String PATH_TARGET_STATE = "/latest/meta-data/autoscaling/target-lifecycle-state";
  static final String PATH_GROUP_TAG = "/latest/meta-data/tags/instance/aws:autoscaling:groupName";
  static final String PATH_SPOT_ACTION = "/latest/meta-data/spot/instance-action";
  static final String PATH_REBALANCE = "/latest/meta-data/events/recommendations/rebalance";
  static final String PATH_LIFE_CYCLE = "/latest/meta-data/instance-life-cycle";

  static final String PATH_ROLES = "/latest/meta-data/iam/security-credentials/";

  private static final Set<String> FIXED_PATHS =
      Set.of(
          PATH_TOKEN,
          PATH_INSTANCE_ID,
          PATH_REGION,
          PATH_TARGET_STATE,
          PATH_GROUP_TAG,
          PATH_SPOT_ACTION,
          PATH_REBALANCE,
          PATH_LIFE_CYCLE,
          PATH_ROLES);

  /**
   * The instance profile's role and the credentials document IMDS gives for it.
   *
   * @param json the document as IMDS answered it: {@code Code}, {@code AccessKeyId}, {@code
   *     SecretAccessKey}, {@code Token}, {@code Expiration}, ...
   */
  public record RoleDocument(String role, String json) {
    /** The secret is never printed. */
    @Override
    public String toString() {
      return "RoleDocument[" + role + "]";
    }
  }

  private final URI endpoint;

  /**
   * The URIs of the fixed paths, resolved once: the poller reads the same three every 5 s. Paths
   * named by IMDS itself (a role's) are resolved each time, so that IMDS cannot grow this.
   */
  private final Map<String, URI> uris = new ConcurrentHashMap<>();

  private final RetryPolicy retry;
  private final Sleeper sleeper;
  private final BoundedHttp http;
  private final LongSupplier nanoTime;
  private String token;
  private long tokenRenewAt;

  public HttpInstanceMetadata(
      URI endpoint, LoopbackGuard guard, RetryPolicy retry, Sleeper sleeper) {
    this(new Endpoint(endpoint, "the caller"), guard, retry, sleeper);
  }

  /**
   * @param endpoint the effective IMDS endpoint and where it came from ({@code
   *     AgentConfig.endpoints().imds()}); the guard judges it before anything is built
   */
  public HttpInstanceMetadata(
      Endpoint endpoint, LoopbackGuard guard, RetryPolicy retry, Sleeper sleeper) {
    this(endpoint, guard, retry, sleeper, System::nanoTime);
  }

  /** As above, with the monotonic clock that ages the session token ({@code System::nanoTime}). */
  HttpInstanceMetadata(
      Endpoint endpoint,
      LoopbackGuard guard,
      RetryPolicy retry,
      Sleeper sleeper,
      LongSupplier nanoTime) {
    guard.check("IMDS", endpoint);
    log.debug("imds endpoint={} source=\"{}\"", endpoint.uri(), endpoint.source());
    this.endpoint = endpoint.uri();
    this.retry = retry;
    this.sleeper = sleeper;
    this.http = new BoundedHttp(guard, "IMDS", CONNECT_TIMEOUT, READ_TIMEOUT, EXCHANGE_LIMIT);
    this.nanoTime = nanoTime;
  }

  @Override
  public String instanceId() {
    return require(PATH_INSTANCE_ID);
  }

  @Override
  public String region() {
    return require(PATH_REGION);
  }

  @Override
  public TargetLifecycleState targetLifecycleState() {
    return read(PATH_TARGET_STATE)
        .map(TargetLifecycleState::parse)
        .orElse(TargetLifecycleState.NOT_IN_GROUP);
  }

  @Override
  public Optional<String> autoScalingGroupFromTags() {
    return read(PATH_GROUP_TAG).map(String::strip).filter(s -> !s.isEmpty());
  }

  /**
   * The credentials of the instance profile: the role named at {@code iam/security-credentials/},
   * then its document; empty when the instance has no instance profile (404). Bounded and retried
   * as every read.
   *
   * @throws ImdsException when IMDS cannot answer, or names a role whose document it does not have
   */
  public Optional<RoleDocument> instanceProfileCredentials() {
    Optional<String> role =
        read(PATH_ROLES).flatMap(body -> body.lines().map(String::strip).findFirst());
    if (role.isEmpty() || role.get().isEmpty()) {
      return Optional.empty();
    }
    String path = PATH_ROLES + role.get();
    return Optional.of(
        new RoleDocument(
            role.get(),
            read(path)
                .orElseThrow(
                    () ->
                        new ImdsException(
                            "IMDS GET " + path + " at " + endpoint + " answered 404", null))));
  }

  /** The IMDS endpoint this adapter reads. */
  public URI endpoint() {
    return endpoint;
  }

  /** One token PUT, without retries, classified for {@code drainguard check}. */
  @Override
  public TokenProbe probeToken() {
    URI uri = endpoint.resolve(PATH_TOKEN);
    String what = "PUT " + uri;
    try {
      int status = http.exchange("PUT", uri, Map.of(TOKEN_TTL_HEADER, ttlSeconds())).status();
      return status == 200
          ? new TokenProbe(TokenProbe.Outcome.ISSUED, what + " answered 200")
          : new TokenProbe(TokenProbe.Outcome.REJECTED, what + " answered HTTP " + status);
    } catch (BoundedHttp.NoAnswerException e) {
      return new TokenProbe(
          TokenProbe.Outcome.NO_ANSWER,
          what + " sent, no answer within " + READ_TIMEOUT.toSeconds() + " s");
    } catch (IOException e) {
      return new TokenProbe(TokenProbe.Outcome.FAILED, what + " failed: " + e);
    }
  }

  @Override
  public Optional<SpotNotice> spotInterruption() {
    return read(PATH_SPOT_ACTION)
        .map(
            body -> {
              JsonReader.Obj n = parse(PATH_SPOT_ACTION, body);
              return new SpotNotice(
                  SpotNotice.Kind.INTERRUPTION,
                  text(PATH_SPOT_ACTION, n, "action"),
                  instant(PATH_SPOT_ACTION, n, "time"));
            });
  }

  @Override
  public Optional<SpotNotice> rebalanceRecommendation() {
    return read(PATH_REBALANCE)
        .map(
            body ->
                new SpotNotice(
                    SpotNotice.Kind.REBALANCE,
                    "rebalance",
                    instant(PATH_REBALANCE, parse(PATH_REBALANCE, body), "noticeTime")));
  }

  @Override
  public Optional<String> purchasingOption() {
    return read(PATH_LIFE_CYCLE, 1).map(String::strip).filter(s -> !s.isEmpty());
  }

  private JsonReader.Obj parse(String path, String body) {
    Object tree;
    try {
      tree = JsonReader.parse(body);
    } catch (IOException e) {
      throw new ImdsException(
          "IMDS GET " + path + " at " + endpoint + " answered malformed JSON: " + body, e);
    }
    if (!(tree instanceof JsonReader.Obj n)) {
      throw new ImdsException(
          "IMDS GET " + path + " at " + endpoint + " answered malformed JSON: " + body, null);
    }
    return n;
  }

  private String text(String path, JsonReader.Obj n, String field) {
    if (!(n.get(field) instanceof String v)) {
      throw new ImdsException(
          "IMDS GET " + path + " at " + endpoint + " answered without '" + field + "': " + n, null);
    }
    return v;
  }

  private Instant instant(String path, JsonReader.Obj n, String field) {
    String v = text(path, n, field);
    try {
      return Instant.parse(v);
    } catch (DateTimeParseException e) {
      throw new ImdsException(
          "IMDS GET " + path + " at " + endpoint + " answered a bad '" + field + "': " + v, e);
    }
  }

  /** Nothing to release: every exchange has its own connection, closed when it ends. */
  @Override
  public void close() {}

  private String require(String path) {
    return read(path)
        .map(String::strip)
        .orElseThrow(
            () ->
                new ImdsException("IMDS GET " + path + " at " + endpoint + " answered 404", null));
  }

  /** The value at {@code path}, empty on 404; retries per policy, then throws ImdsException. */
  Optional<String> read(String path) {
    return read(path, retry.attempts());
  }

  /** As {@link #read(String)}, with at most {@code attempts} tries. */
  private synchronized Optional<String> read(String path, int attempts) {
    URI uri =
        FIXED_PATHS.contains(path)
            ? uris.computeIfAbsent(path, endpoint::resolve)
            : endpoint.resolve(path);
    Exception last = null;
    for (int attempt = 1; attempt <= attempts; attempt++) {
      try {
        BoundedHttp.Answer answer = http.exchange("GET", uri, Map.of(TOKEN_HEADER, token()));
        int status = answer.status();
        if (status == 200) {
          return Optional.of(answer.body());
        }
        if (status == 404) {
          return Optional.empty();
        }
        if (status == 401) {
          // The token was refused (expired early, or IMDS restarted): start a new session, at
          // once the first time.
          log.info("imds token refused, requesting a new one path={} status=401", path);
          token = null;
          last = new ImdsException("IMDS GET " + path + " at " + endpoint + " answered 401", null);
          if (attempt == 1) {
            continue;
          }
        } else if (status >= 500) {
          last = new ImdsException("answered HTTP " + status, null);
        } else {
          throw new ImdsException(
              String.format("IMDS GET %s at %s answered HTTP %d", path, endpoint, status), null);
        }
      } catch (TokenRefused e) {
        throw new ImdsException(
            String.format("IMDS GET %s at %s: %s", path, endpoint, e.getMessage()), null);
      } catch (IOException e) {
        last = e;
        log.debug("imds read failed path={} attempt={} error={}", path, attempt, e.getMessage());
      }
      if (attempt < attempts) {
        sleeper.sleep(retry.delayAfter(attempt));
      }
    }
    throw new ImdsException(
        String.format(
            "IMDS GET %s at %s failed after %d attempts: %s",
            path, endpoint, attempts, last == null ? "no answer" : last.getMessage()),
        last);
  }

  /**
   * The session token, asked for when there is none or it is near its end. A PUT answered 5xx or
   * not at all throws IOException (retried like the GET it is for); any other refusal is final.
   */
  private String token() throws IOException {
    if (token != null && nanoTime.getAsLong() - tokenRenewAt < 0) {
      return token;
    }
    long asked = nanoTime.getAsLong();
    URI uri = uris.computeIfAbsent(PATH_TOKEN, endpoint::resolve);
    BoundedHttp.Answer answer = http.exchange("PUT", uri, Map.of(TOKEN_TTL_HEADER, ttlSeconds()));
    if (answer.status() >= 500) {
      throw new IOException("PUT " + PATH_TOKEN + " answered HTTP " + answer.status());
    }
    String issued = answer.body().strip();
    if (answer.status() != 200 || issued.isEmpty()) {
      throw new TokenRefused(
          "PUT "
              + PATH_TOKEN
              + (answer.status() != 200
                  ? " answered HTTP " + answer.status()
                  : " answered 200 without a token"));
    }
    token = issued;
    tokenRenewAt = asked + TOKEN_TTL.minus(TOKEN_RENEW_BEFORE).toNanos();
    return token;
  }

  private static String ttlSeconds() {
    return Long.toString(TOKEN_TTL.toSeconds());
  }

  /** IMDS refused to issue a session token, for a reason a retry cannot mend. */
  private static final class TokenRefused extends RuntimeException {
    private static final long serialVersionUID = 1L;

    TokenRefused(String message) {
      super(message, null, false, false);
    }
  }
}
