package dev.drainguard.imds;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drainguard.net.Endpoint;
import dev.drainguard.net.EndpointRefusedException;
import dev.drainguard.net.GuardedHttpClient;
import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.net.RetryPolicy;
import dev.drainguard.net.Sleeper;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.retry.backoff.BackoffStrategy;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.HttpExecuteResponse;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.imds.Ec2MetadataClient;
import software.amazon.awssdk.imds.Ec2MetadataClientException;
import software.amazon.awssdk.imds.Ec2MetadataRetryPolicy;

/**
 * {@link InstanceMetadata} over the SDK's {@link Ec2MetadataClient} (IMDSv2 only).
 *
 * <p>The SDK client caches its session token and neither drops it on 401 nor retries any 4xx, so
 * this adapter does both: a 401 rebuilds the client (a new token), and 5xx or I/O failures are
 * retried here with {@link RetryPolicy}, the SDK's own retries being off so one policy governs.
 */
public final class SdkInstanceMetadata implements InstanceMetadata, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(SdkInstanceMetadata.class);

  /** The longest IMDS allows: the fewer token PUTs, the fewer chances to fail. */
  static final Duration TOKEN_TTL = Duration.ofHours(6);

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
  static final String PATH_INSTANCE_ID = "/latest/meta-data/instance-id";
  static final String PATH_REGION = "/latest/meta-data/placement/region";
  static final String PATH_TARGET_STATE = "/latest/meta-data/autoscaling/target-lifecycle-state";
  static final String PATH_GROUP_TAG = "/latest/meta-data/tags/instance/aws:autoscaling:groupName";
  static final String PATH_SPOT_ACTION = "/latest/meta-data/spot/instance-action";
  static final String PATH_REBALANCE = "/latest/meta-data/events/recommendations/rebalance";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final URI endpoint;
  private final RetryPolicy retry;
  private final Sleeper sleeper;
  private final SdkHttpClient http;
  private Ec2MetadataClient client;

  public SdkInstanceMetadata(
      URI endpoint, LoopbackGuard guard, RetryPolicy retry, Sleeper sleeper) {
    this(new Endpoint(endpoint, "the caller"), guard, retry, sleeper);
  }

  /**
   * @param endpoint the effective IMDS endpoint and where it came from ({@code
   *     AgentConfig.endpoints().imds()}); the guard judges it before anything is built
   */
  public SdkInstanceMetadata(
      Endpoint endpoint, LoopbackGuard guard, RetryPolicy retry, Sleeper sleeper) {
    guard.check("IMDS", endpoint);
    log.debug("imds endpoint={} source=\"{}\"", endpoint.uri(), endpoint.source());
    this.endpoint = endpoint.uri();
    this.retry = retry;
    this.sleeper = sleeper;
    this.http =
        new GuardedHttpClient(
            UrlConnectionHttpClient.builder()
                .connectionTimeout(CONNECT_TIMEOUT)
                .socketTimeout(READ_TIMEOUT)
                .build(),
            guard,
            "IMDS",
            Optional.of(EXCHANGE_LIMIT));
    this.client = newClient();
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
   * One token PUT, outside the SDK client so that its failure can be classified: the SDK reports a
   * token request that timed out like any other I/O failure.
   */
  @Override
  public TokenProbe probeToken() {
    URI uri = endpoint.resolve(PATH_TOKEN);
    String what = "PUT " + uri;
    SdkHttpFullRequest request =
        SdkHttpFullRequest.builder()
            .method(SdkHttpMethod.PUT)
            .uri(uri)
            .putHeader(TOKEN_TTL_HEADER, Long.toString(TOKEN_TTL.toSeconds()))
            .build();
    try {
      HttpExecuteResponse response =
          http.prepareRequest(HttpExecuteRequest.builder().request(request).build()).call();
      if (response.responseBody().isPresent()) {
        response.responseBody().get().close();
      }
      int status = response.httpResponse().statusCode();
      return status == 200
          ? new TokenProbe(TokenProbe.Outcome.ISSUED, what + " answered 200")
          : new TokenProbe(TokenProbe.Outcome.REJECTED, what + " answered HTTP " + status);
    } catch (SocketTimeoutException e) {
      String message = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
      if (message.contains("read timed out")) {
        return new TokenProbe(
            TokenProbe.Outcome.NO_ANSWER,
            what + " sent, no answer within " + READ_TIMEOUT.toSeconds() + " s");
      }
      return new TokenProbe(TokenProbe.Outcome.FAILED, what + " failed: " + e);
    } catch (IOException e) {
      return new TokenProbe(TokenProbe.Outcome.FAILED, what + " failed: " + e);
    }
  }

  @Override
  public Optional<SpotNotice> spotInterruption() {
    return read(PATH_SPOT_ACTION)
        .map(
            body -> {
              JsonNode n = parse(PATH_SPOT_ACTION, body);
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

  private JsonNode parse(String path, String body) {
    try {
      return JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw new ImdsException(
          "IMDS GET " + path + " at " + endpoint + " answered malformed JSON: " + body, e);
    }
  }

  private String text(String path, JsonNode n, String field) {
    JsonNode v = n.get(field);
    if (v == null || !v.isTextual()) {
      throw new ImdsException(
          "IMDS GET " + path + " at " + endpoint + " answered without '" + field + "': " + n, null);
    }
    return v.asText();
  }

  private Instant instant(String path, JsonNode n, String field) {
    String v = text(path, n, field);
    try {
      return Instant.parse(v);
    } catch (DateTimeParseException e) {
      throw new ImdsException(
          "IMDS GET " + path + " at " + endpoint + " answered a bad '" + field + "': " + v, e);
    }
  }

  @Override
  public synchronized void close() {
    client.close();
    http.close();
  }

  private String require(String path) {
    return read(path)
        .map(String::strip)
        .orElseThrow(
            () ->
                new ImdsException("IMDS GET " + path + " at " + endpoint + " answered 404", null));
  }

  /** The value at {@code path}, empty on 404; retries per policy, then throws ImdsException. */
  synchronized Optional<String> read(String path) {
    RuntimeException last = null;
    for (int attempt = 1; attempt <= retry.attempts(); attempt++) {
      try {
        return Optional.of(client.get(path).asString());
      } catch (EndpointRefusedException e) {
        throw e;
      } catch (Ec2MetadataClientException e) {
        int status = e.statusCode();
        if (status == 404) {
          return Optional.empty();
        }
        if (status != 401) {
          throw new ImdsException(
              String.format("IMDS GET %s at %s answered HTTP %d", path, endpoint, status), e);
        }
        // The cached token was refused (expired early, or IMDS restarted): start a new session.
        log.info("imds token refused, requesting a new one path={} status=401", path);
        client.close();
        client = newClient();
        last = e;
        if (attempt == 1) {
          continue;
        }
      } catch (SdkClientException e) {
        if (causedByRefusal(e)) {
          throw (EndpointRefusedException) rootCause(e);
        }
        last = e;
        log.debug("imds read failed path={} attempt={} error={}", path, attempt, e.getMessage());
      }
      if (attempt < retry.attempts()) {
        sleeper.sleep(retry.delayAfter(attempt));
      }
    }
    throw new ImdsException(
        String.format(
            "IMDS GET %s at %s failed after %d attempts: %s",
            path, endpoint, retry.attempts(), describe(last)),
        last);
  }

  private Ec2MetadataClient newClient() {
    return Ec2MetadataClient.builder()
        .endpoint(endpoint)
        .tokenTtl(TOKEN_TTL)
        // none() keeps the default backoff, which the SDK sleeps (tens of ms, not injectable)
        // before giving up on every failed attempt: no retries and no backoff, so that only
        // this adapter's RetryPolicy and Sleeper pace the attempts.
        .retryPolicy(
            Ec2MetadataRetryPolicy.builder()
                .numRetries(0)
                .backoffStrategy(BackoffStrategy.none())
                .build())
        .httpClient(http)
        .build();
  }

  private static boolean causedByRefusal(Throwable t) {
    return rootCause(t) instanceof EndpointRefusedException;
  }

  private static Throwable rootCause(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c;
  }

  private static String describe(Throwable t) {
    if (t == null) {
      return "no answer";
    }
    Throwable root = rootCause(t);
    return root == t ? t.getMessage() : t.getMessage() + " (" + root + ")";
  }
}
