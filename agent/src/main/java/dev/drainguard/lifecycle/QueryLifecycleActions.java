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
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link LifecycleActions} over the Auto Scaling Query API, spoken directly: each call is one form
 * POST signed with Signature Version 4 ({@link SigV4}) and sent by {@link BoundedHttp}, bounded as
 * a whole, and its XML answer read by {@link QueryXml}. Every error is classified here ({@link
 * ApiFailures}) and nowhere else: throttling ({@code Throttling}, {@code RequestLimitExceeded},
 * HTTP 429), 5xx, transport failures and malformed answers are retried with {@link RetryPolicy}
 * and, if they last, thrown as a transient {@link LifecycleApiException}; "No active Lifecycle
 * Action found" is {@link ActionOutcome#NO_ACTIVE_ACTION}; anything else is final.
 *
 * <p>Not the AWS SDK's client: the agent makes a few calls at start and a few while an instance
 * terminates, and that client kept some thousand classes and the SDK's region tables in memory for
 * the whole life of the instance (issue 15). The calls and their answers are those of the API
 * reference (version 2011-01-01); a test runs them against moto, and the simulator's wire format is
 * checked against the SDK's own client.
 *
 * <p>The client calls exactly the {@link Endpoint} it is given (resolved once by the configuration,
 * see {@code config.AwsEndpoints}), so what {@code check} prints is what is called.
 */
public final class QueryLifecycleActions implements LifecycleActions, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(QueryLifecycleActions.class);

  static final String TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING";
  static final String NO_ACTIVE_ACTION_MESSAGE = ApiFailures.NO_ACTIVE_ACTION_MESSAGE;
  static final String API_VERSION = "2011-01-01";

  /** The name Auto Scaling signs under (the credential scope's service). */
  static final String SIGNING_NAME = "autoscaling";

  /**
   * The IAM actions of every Auto Scaling call this class makes, and nothing else: the instance
   * role's policy (userdata/iam-policy.json, userdata/cloudformation.yaml) must allow exactly
   * these. IamActionsTest keeps the list equal to the calls in this file.
   */
  public static final List<String> IAM_ACTIONS =
      List.of(
          "autoscaling:RecordLifecycleActionHeartbeat",
          "autoscaling:CompleteLifecycleAction",
          "autoscaling:DescribeLifecycleHooks",
          "autoscaling:DescribeAutoScalingInstances",
          "autoscaling:TerminateInstanceInAutoScalingGroup",
          "autoscaling:SetInstanceProtection");

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

  /**
   * A signature more than 5 minutes off AWS's clock is refused; when AWS says so, the next attempt
   * signs with the offset its answer's Date header gives, as the AWS SDKs do.
   */
  static final Duration SKEW_TO_CORRECT = Duration.ofMinutes(4);

  private final String region;
  private final Endpoint endpoint;
  private final URI uri;
  private final String where;
  private final CredentialsProvider credentials;
  private final RetryPolicy retry;
  private final Sleeper sleeper;
  private final Clock clock;
  private final BoundedHttp http;
  private volatile Duration skew = Duration.ZERO;

  /**
   * @param endpoint the Auto Scaling endpoint, or {@code null} for the region's default (with
   *     neither FIPS nor dual-stack; refused by the guard in loopback-only mode)
   */
  public QueryLifecycleActions(
      String region,
      URI endpoint,
      CredentialsProvider credentials,
      LoopbackGuard guard,
      RetryPolicy retry,
      Sleeper sleeper) {
    this(
        region,
        endpoint == null
            ? AutoScalingEndpoints.regional(region, false, false, "")
            : new Endpoint(endpoint, "the caller"),
        credentials,
        guard,
        retry,
        sleeper);
  }

  /**
   * @param endpoint the effective Auto Scaling endpoint and where it came from (e.g. {@code
   *     AgentConfig.endpoints().autoScaling(region)}); the guard judges it before anything is built
   */
  public QueryLifecycleActions(
      String region,
      Endpoint endpoint,
      CredentialsProvider credentials,
      LoopbackGuard guard,
      RetryPolicy retry,
      Sleeper sleeper) {
    this(
        region,
        endpoint,
        credentials,
        guard,
        retry,
        sleeper,
        Clock.systemUTC(),
        null,
        HttpsProxy.forTarget(endpoint.uri(), System.getenv(), System::getProperty));
  }

  /**
   * As above, with the clock that dates signatures, the TLS sockets (null: the JVM's) and the proxy
   * for an https endpoint.
   */
  QueryLifecycleActions(
      String region,
      Endpoint endpoint,
      CredentialsProvider credentials,
      LoopbackGuard guard,
      RetryPolicy retry,
      Sleeper sleeper,
      Clock clock,
      javax.net.ssl.SSLSocketFactory tls,
      Optional<HttpsProxy> proxy) {
    guard.check("Auto Scaling", endpoint);
    this.region = region;
    this.endpoint = endpoint;
    URI u = endpoint.uri();
    this.uri = u.getRawPath() == null || u.getRawPath().isEmpty() ? u.resolve("/") : u;
    this.where = endpoint.uri().toString();
    this.credentials = credentials;
    this.retry = retry;
    this.sleeper = sleeper;
    this.clock = clock;
    this.http =
        new BoundedHttp(
            guard,
            "Auto Scaling",
            CONNECT_TIMEOUT,
            ATTEMPT_TIMEOUT,
            ATTEMPT_TIMEOUT,
            MAX_ANSWER,
            () ->
                tls != null
                    ? tls
                    : (javax.net.ssl.SSLSocketFactory) javax.net.ssl.SSLSocketFactory.getDefault(),
            proxy);
    log.info("auto scaling endpoint={} source=\"{}\"", endpoint.uri(), endpoint.source());
    proxy.ifPresent(
        p -> log.info("auto scaling through proxy={} source=\"{}\"", p.address(), p.source()));
  }

  /** The endpoint this adapter calls, and where it came from. */
  public Endpoint endpoint() {
    return endpoint;
  }

  @Override
  public ActionOutcome heartbeat(LifecycleHookRef ref) {
    return call(
        "heartbeat for " + ref,
        "RecordLifecycleActionHeartbeat",
        Map.of(
            "AutoScalingGroupName", ref.groupName(),
            "LifecycleHookName", ref.hookName(),
            "InstanceId", ref.instanceId()),
        r -> ActionOutcome.ACCEPTED,
        ActionOutcome.NO_ACTIVE_ACTION);
  }

  @Override
  public ActionOutcome complete(LifecycleHookRef ref, LifecycleResult result) {
    return call(
        "complete(" + result + ") for " + ref,
        "CompleteLifecycleAction",
        Map.of(
            "AutoScalingGroupName", ref.groupName(),
            "LifecycleHookName", ref.hookName(),
            "InstanceId", ref.instanceId(),
            "LifecycleActionResult", result.name()),
        r -> ActionOutcome.ACCEPTED,
        ActionOutcome.NO_ACTIVE_ACTION);
  }

  @Override
  public List<TerminationHook> terminationHooks(String groupName) {
    return hooks(
        "describe lifecycle hooks of asg=" + groupName,
        Map.of("AutoScalingGroupName", groupName),
        h -> true);
  }

  @Override
  public Optional<TerminationHook> terminationHook(String groupName, String hookName) {
    return hooks(
            "describe lifecycle hook=" + hookName + " of asg=" + groupName,
            Map.of("AutoScalingGroupName", groupName, "LifecycleHookNames.member.1", hookName),
            h -> hookName.equals(h.name()))
        .stream()
        .findFirst();
  }

  private List<TerminationHook> hooks(
      String operation, Map<String, String> params, Predicate<TerminationHook> wanted) {
    return call(
        operation,
        "DescribeLifecycleHooks",
        params,
        r ->
            members(r, "LifecycleHooks").stream()
                .filter(h -> TERMINATING.equals(h.text("LifecycleTransition").orElse("")))
                .map(QueryLifecycleActions::toHook)
                .filter(wanted)
                .toList(),
        null);
  }

  @Override
  public Optional<GroupMembership> describeInstance(String instanceId) {
    return call(
        "describe auto scaling instance=" + instanceId,
        "DescribeAutoScalingInstances",
        Map.of("InstanceIds.member.1", instanceId),
        r ->
            members(r, "AutoScalingInstances").stream()
                .filter(i -> instanceId.equals(i.text("InstanceId").orElse(null)))
                .findFirst()
                .map(QueryLifecycleActions::toMembership),
        null);
  }

  @Override
  public void terminateInstance(String instanceId) {
    call(
        "terminate instance=" + instanceId + " in its group (desired capacity kept)",
        "TerminateInstanceInAutoScalingGroup",
        Map.of("InstanceId", instanceId, "ShouldDecrementDesiredCapacity", "false"),
        r -> r,
        null);
  }

  @Override
  public void setProtection(String groupName, String instanceId, boolean protectedFromScaleIn) {
    call(
        "set scale-in protection="
            + protectedFromScaleIn
            + " for asg="
            + groupName
            + " instance="
            + instanceId,
        "SetInstanceProtection",
        Map.of(
            "AutoScalingGroupName", groupName,
            "InstanceIds.member.1", instanceId,
            "ProtectedFromScaleIn", Boolean.toString(protectedFromScaleIn)),
        r -> r,
        null);
  }

  /** Nothing to release: every call has its own connection, closed when it ends. */
  @Override
  public void close() {}

  /**
   * The members of a result's list. The list element itself must be there (every answer of the call
   * has it, empty or not): an answer without it is not read as an empty list.
   */
  private static List<Element> members(Element result, String list) {
    if (!result.name().endsWith("Result")) {
      throw new IllegalArgumentException("no result element in <" + result.name() + ">");
    }
    return result
        .child(list)
        .map(l -> l.all("member"))
        .orElseThrow(() -> new IllegalArgumentException("no " + list + " in " + result.name()));
  }

  private static TerminationHook toHook(Element h) {
    try {
      return new TerminationHook(
          required(h, "LifecycleHookName"),
          Duration.ofSeconds(Long.parseLong(required(h, "HeartbeatTimeout"))),
          Duration.ofSeconds(Long.parseLong(required(h, "GlobalTimeout"))),
          LifecycleResult.valueOf(required(h, "DefaultResult").toUpperCase(Locale.ROOT)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("a timeout that is not a number in a lifecycle hook", e);
    }
  }

  private static GroupMembership toMembership(Element d) {
    return new GroupMembership(
        required(d, "AutoScalingGroupName"),
        required(d, "LifecycleState"),
        "true".equals(d.text("ProtectedFromScaleIn").orElse("false")));
  }

  private static String required(Element e, String name) {
    return e.text(name)
        .filter(t -> !t.isEmpty())
        .orElseThrow(() -> new IllegalArgumentException("no " + name + " in " + e.name()));
  }

  /**
   * Runs one call under the retry policy and the one classification of errors.
   *
   * @param reader reads the answer's {@code <ActionResult>} element; an answer it cannot read
   *     (IllegalArgumentException) is a fault of the exchange, retried like a 5xx, never an answer
   * @param onNoActiveAction what "No active Lifecycle Action" means for this call, or {@code null}
   *     when it cannot happen and would be an error
   */
  private <T> T call(
      String operation,
      String action,
      Map<String, String> params,
      Function<Element, T> reader,
      T onNoActiveAction) {
    byte[] body = form(action, params);
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
      try {
        signedWith = credentials.resolve();
        answer = http.exchange("POST", uri, signed(body, signedWith), body);
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
      if (f == Failure.SKEWED && !skewCorrected && correctSkew(answer)) {
        log.warn(
            "auto scaling refused the signature's time; signing with AWS's clock from now on"
                + " offset={} operation=\"{}\"",
            skew,
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

  private Map<String, String> signed(byte[] body, AwsCredentials c) {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Host", BoundedHttp.hostHeader(uri));
    headers.put("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
    Map<String, String> all = new LinkedHashMap<>(headers);
    all.putAll(
        SigV4.sign(
            "POST", uri, headers, body, c, region, SIGNING_NAME, clock.instant().plus(skew)));
    all.remove("Host"); // BoundedHttp writes it, the same value
    return all;
  }

  /**
   * Takes AWS's clock from the answer's Date header; false when it gives none that helps. The Date
   * is held against the time the request was signed with (the clock plus the offset in use), not
   * the clock alone: after the clock has been stepped right, the offset learnt before is what is
   * wrong, and AWS's Date agrees with the clock.
   */
  private boolean correctSkew(BoundedHttp.Answer answer) {
    String date = answer.headers().get("date");
    if (date == null) {
      return false;
    }
    try {
      Instant theirs = ZonedDateTime.parse(date, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
      Instant now = clock.instant();
      if (Duration.between(now.plus(skew), theirs).abs().compareTo(SKEW_TO_CORRECT) < 0) {
        return false;
      }
      skew = Duration.between(now, theirs);
      return true;
    } catch (DateTimeParseException e) {
      return false;
    }
  }

  /** {@code Action}, {@code Version} and the parameters, form-encoded as the SDKs encode them. */
  static byte[] form(String action, Map<String, String> params) {
    StringBuilder b = new StringBuilder("Action=").append(encode(action));
    b.append("&Version=").append(API_VERSION);
    params.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(
            e -> b.append('&').append(encode(e.getKey())).append('=').append(encode(e.getValue())));
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8)
        .replace("+", "%20")
        .replace("*", "%2A")
        .replace("%7E", "~");
  }
}
