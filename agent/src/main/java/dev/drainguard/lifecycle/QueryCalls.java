package dev.drainguard.lifecycle;

import dev.drainguard.aws.AwsCredentials;
import dev.drainguard.aws.CredentialsException;
import dev.drainguard.aws.CredentialsProvider;
import dev.drainguard.aws.QueryXml;
import dev.drainguard.aws.QueryXml.Element;
import dev.drainguard.aws.SigV4;
import dev.drainguard.lifecycle.ApiFailures.Failure;
import dev.drainguard.lifecycle.ApiFailures.ServiceError;
import dev.drainguard.net.BoundedHttp;
import dev.drainguard.net.Endpoint;
import dev.drainguard.net.HttpsProxy;
import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.net.RetryPolicy;
import dev.drainguard.net.Sleeper;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import javax.net.ssl.SSLSocketFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Auto Scaling call at a time, as {@link QueryLifecycleActions} makes them: the form signed
 * with Signature Version 4, sent by {@link BoundedHttp}, its answer read and every error classified
 * ({@link ApiFailures}) in one place, retried under the {@link RetryPolicy} and a budget for the
 * whole call.
 */
final class QueryCalls {

  private static final Logger log = LoggerFactory.getLogger(QueryCalls.class);

  /** The name Auto Scaling signs under (the credential scope's service). */
  static final String SIGNING_NAME = "autoscaling";

  /** Opening a connection to the regional endpoint takes milliseconds; 2 s means it is down. */
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);

  /**
   * One attempt as a whole, connection, TLS, request and answer. Calls answer in well under a
   * second; the bound keeps a blackholed or trickling attempt from holding up the effects thread
   * past a heartbeat's slack.
   */
  static final Duration ATTEMPT_TIMEOUT = Duration.ofSeconds(4);

  /**
   * The most one call may spend before it gives up, whatever retries are left: the core counts a
   * call as failed at {@code Effects.CALL_DEADLINE} (30 s) and asks again, so a call still trying
   * after that would only run beside its successor. An attempt already started may still take its
   * own bound (credentials, then the exchange's 4 s).
   */
  static final Duration CALL_BUDGET = Duration.ofSeconds(20);

  /** Answers of one instance's calls are a few KiB; a group's hooks a few more. */
  static final int MAX_ANSWER = 1024 * 1024;

  private final String region;
  private final URI uri;
  private final String where;
  private final CredentialsProvider credentials;
  private final RetryPolicy retry;
  private final Sleeper sleeper;
  private final BoundedHttp http;
  private final SigningClock signingClock;

  /**
   * @param tls the TLS sockets, null for the JVM's
   */
  QueryCalls(
      String region,
      Endpoint endpoint,
      CredentialsProvider credentials,
      LoopbackGuard guard,
      RetryPolicy retry,
      Sleeper sleeper,
      Clock clock,
      SSLSocketFactory tls,
      Optional<HttpsProxy> proxy) {
    this.region = region;
    URI u = endpoint.uri();
    this.uri = u.getRawPath() == null || u.getRawPath().isEmpty() ? u.resolve("/") : u;
    this.where = endpoint.uri().toString();
    this.credentials = credentials;
    this.retry = retry;
    this.sleeper = sleeper;
    this.signingClock = new SigningClock(clock);
    this.http =
        new BoundedHttp(
            guard,
            "Auto Scaling",
            CONNECT_TIMEOUT,
            ATTEMPT_TIMEOUT,
            ATTEMPT_TIMEOUT,
            MAX_ANSWER,
            () -> tls != null ? tls : (SSLSocketFactory) SSLSocketFactory.getDefault(),
            proxy);
  }

  /**
   * Runs one call under the retry policy and the one classification of errors.
   *
   * @param reader reads the answer's {@code <ActionResult>} element; an answer it cannot read
   *     (IllegalArgumentException) is a fault of the exchange, retried like a 5xx, never an answer
   * @param onNoActiveAction what "No active Lifecycle Action" means for this call, or {@code null}
   *     when it cannot happen and would be an error
   */
  <T> T call(
      String operation,
      String action,
      Map<String, String> params,
      Function<Element, T> reader,
      T onNoActiveAction) {
    byte[] body = QueryAnswers.form(action, params);
    String lastProblem = "no answer";
    Exception last = null;
    String lastCode = null;
    LifecycleApiException.Kind lastKind = LifecycleApiException.Kind.UNAVAILABLE;
    boolean skewCorrected = false;
    boolean credentialsRenewed = false;
    long started = System.nanoTime();
    int tries = 0;
    for (int attempt = 1; attempt <= retry.attempts(); attempt++) {
      if (tries > 0 && System.nanoTime() - started > CALL_BUDGET.toNanos()) {
        lastProblem += " (no time left for another try: " + CALL_BUDGET.toSeconds() + " s spent)";
        break;
      }
      tries++;
      BoundedHttp.Answer answer;
      AwsCredentials signedWith = null;
      Instant signedAt = null;
      try {
        signedWith = credentials.resolve();
        signedAt = signingClock.now();
        answer = http.exchange("POST", uri, signed(body, signedWith, signedAt), body);
      } catch (IOException | CredentialsException e) {
        // No credentials is no answer either: the instance profile may be back at the next try.
        last = e;
        lastCode = null;
        lastKind = LifecycleApiException.Kind.UNAVAILABLE;
        lastProblem = e.toString();
        log.debug("{} failed attempt={} error={}", operation, attempt, lastProblem);
        pause(attempt);
        continue;
      }
      if (answer.status() >= 200 && answer.status() <= 299) {
        try {
          Element root = QueryXml.parse(answer.body());
          // Every answer of the Query API is an <ActionResponse>; heartbeat and complete read
          // nothing else from it, so any other document (a proxy's XHTML page, an ErrorResponse
          // sent with 200, another call's answer) would otherwise be read as accepted.
          if (!root.name().equals(action + "Response")) {
            throw new IllegalArgumentException(
                "<" + root.name() + "> where <" + action + "Response> was expected");
          }
          return reader.apply(root.child(action + "Result").orElse(root));
        } catch (QueryXml.MalformedException | IllegalArgumentException e) {
          last = e;
          lastCode = null;
          lastKind = LifecycleApiException.Kind.UNAVAILABLE;
          lastProblem = "HTTP " + answer.status() + " that cannot be read: " + e.getMessage();
          log.debug("{} failed attempt={} error={}", operation, attempt, lastProblem);
          pause(attempt);
          continue;
        }
      }
      ServiceError error = ServiceError.of(answer.status(), answer.body());
      Failure f = Failure.of(error);
      if (onNoActiveAction != null && f == Failure.NO_ACTIVE_ACTION) {
        log.debug("no active lifecycle action operation=\"{}\"", operation);
        return onNoActiveAction;
      }
      if (f == Failure.SKEWED
          && !skewCorrected
          && signingClock.correct(answer.headers().get("date"), signedAt)) {
        log.warn(
            "auto scaling refused the signature's time; signing with AWS's clock from now on"
                + " offset={} operation=\"{}\"",
            signingClock.offset(),
            operation);
        skewCorrected = true;
        attempt--; // once per call, at once and not counted: the same request, correctly dated
        continue;
      }
      if (f == Failure.CREDENTIALS_REFUSED && !credentialsRenewed) {
        // EC2 rotates instance-profile keys; with a clock far off, the agent may still hold ones
        // AWS has let expire. Whoever gave them fetches anew; the same request, signed with those.
        log.warn(
            "auto scaling refused the credentials code={} source=\"{}\"; asking for new ones"
                + " operation=\"{}\"",
            error.code(),
            signedWith.source(),
            operation);
        credentials.refused(signedWith);
        credentialsRenewed = true;
        attempt--; // once per call, at once and not counted
        continue;
      }
      if (!f.retried()) {
        throw new LifecycleApiException(
            String.format("%s at %s: %s", operation, where, error.describe()),
            error.code(),
            LifecycleApiException.Kind.REJECTED,
            null);
      }
      last = null;
      lastCode = error.code();
      lastKind = ApiFailures.kind(f);
      lastProblem = error.describe();
      log.debug("{} failed attempt={} error={}", operation, attempt, lastProblem);
      pause(attempt);
    }
    throw new LifecycleApiException(
        String.format(
            "%s at %s failed after %d attempts: %s", operation, where, tries, lastProblem),
        lastCode,
        lastKind,
        last);
  }

  private void pause(int attempt) {
    if (attempt < retry.attempts()) {
      sleeper.sleep(retry.delayAfter(attempt));
    }
  }

  private Map<String, String> signed(byte[] body, AwsCredentials c, Instant at) {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Host", BoundedHttp.hostHeader(uri));
    headers.put("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
    Map<String, String> all = new LinkedHashMap<>(headers);
    all.putAll(SigV4.sign("POST", uri, headers, body, c, region, SIGNING_NAME, at));
    all.remove("Host"); // BoundedHttp writes it, the same value
    return all;
  }
}
