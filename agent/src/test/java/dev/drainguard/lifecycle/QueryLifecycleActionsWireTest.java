package dev.drainguard.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.drainguard.aws.AwsCredentials;
import dev.drainguard.aws.CredentialsProvider;
import dev.drainguard.net.Endpoint;
import dev.drainguard.net.HttpsProxy;
import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.net.RecordingSleeper;
import dev.drainguard.net.RetryPolicy;
import dev.drainguard.testing.TestTls;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Auto Scaling client's own wire behaviour against a scripted loopback server, plain and TLS:
 * what it sends (a signed form POST), and how it reads what the simulator never answers (a clock
 * AWS refuses, an HTML 503, a cut-off 200, a certificate for another name).
 */
class QueryLifecycleActionsWireTest {

  private static final Instant NOW = Instant.parse("2026-12-07T10:00:00Z");
  private static final RetryPolicy POLICY =
      new RetryPolicy(3, Duration.ofMillis(100), Duration.ofSeconds(1));
  private static final CredentialsProvider KEYS =
      CredentialsProvider.fixed(
          new AwsCredentials(
              "AKIDEXAMPLE", "secret", Optional.of("session-token"), Optional.empty(), "the test"));
  private static final String DESCRIBE_OK =
      "<DescribeAutoScalingInstancesResponse"
          + " xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">"
          + "<DescribeAutoScalingInstancesResult><AutoScalingInstances><member>"
          + "<InstanceId>i-1</InstanceId><AutoScalingGroupName>g</AutoScalingGroupName>"
          + "<LifecycleState>Terminating:Wait</LifecycleState>"
          + "<ProtectedFromScaleIn>true</ProtectedFromScaleIn>"
          + "</member></AutoScalingInstances></DescribeAutoScalingInstancesResult>"
          + "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>"
          + "</DescribeAutoScalingInstancesResponse>";

  private final RecordingSleeper sleeper = new RecordingSleeper();
  private Scripted server;

  @AfterEach
  void close() throws IOException {
    if (server != null) {
      server.close();
    }
  }

  private QueryLifecycleActions client(URI uri, javax.net.ssl.SSLSocketFactory tls) {
    return client(uri, tls, Optional.empty());
  }

  private QueryLifecycleActions client(
      URI uri, javax.net.ssl.SSLSocketFactory tls, Optional<HttpsProxy> proxy) {
    return new QueryLifecycleActions(
        "us-east-1",
        new Endpoint(uri, "the test"),
        KEYS,
        LoopbackGuard.of(true),
        POLICY,
        sleeper,
        Clock.fixed(NOW, ZoneOffset.UTC),
        tls,
        proxy);
  }

  @Test
  void aCall_isASignedFormPost_andItsAnswerRead() throws Exception {
    server = Scripted.plain();
    server.answer(200, "", DESCRIBE_OK);

    Optional<GroupMembership> m = client(server.uri(), null).describeInstance("i-1");

    assertThat(m).contains(new GroupMembership("g", "Terminating:Wait", true));
    String request = server.requests.get(0);
    assertThat(request)
        .startsWith("POST / HTTP/1.1\r\n")
        .contains("\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\r\n")
        .contains("\r\nX-Amz-Date: 20261207T100000Z\r\n")
        .contains("\r\nX-Amz-Security-Token: session-token\r\n")
        .contains(
            "\r\nAuthorization: AWS4-HMAC-SHA256"
                + " Credential=AKIDEXAMPLE/20261207/us-east-1/autoscaling/aws4_request,")
        .endsWith(
            "\r\n\r\nAction=DescribeAutoScalingInstances&Version=2011-01-01"
                + "&InstanceIds.member.1=i-1");
  }

  // The agent's clock is 10 minutes behind AWS's: the refusal's Date header gives the offset and
  // the same call, signed anew, goes through at once (not counted as a retry, no pause).
  @Test
  void aSignatureRefusedForItsTime_isSignedAgainWithAwsClock_once() throws Exception {
    server = Scripted.plain();
    String awsNow =
        DateTimeFormatter.RFC_1123_DATE_TIME.format(
            NOW.plus(Duration.ofMinutes(10)).atOffset(ZoneOffset.UTC));
    server.answer(
        400,
        "Date: " + awsNow + "\r\n",
        "<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>"
            + "<Message>Signature expired: 20261207T100000Z is now earlier than"
            + " 20261207T100500Z</Message></Error><RequestId>r</RequestId></ErrorResponse>");
    server.answer(200, "", DESCRIBE_OK);

    assertThat(client(server.uri(), null).describeInstance("i-1")).isPresent();

    assertThat(server.requests.get(1)).contains("\r\nX-Amz-Date: 20261207T101000Z\r\n");
    assertThat(sleeper.pauses()).isEmpty();
  }

  // Adversary: the instance booted with its clock 10 minutes behind and the agent learnt AWS's
  // offset; then chrony stepped the clock right. The offset kept would now sign every call 10
  // minutes in the future, and AWS's Date agrees with the (corrected) clock: the refusal must
  // still be read as a clock fault (against the time the request was signed with) and the call
  // signed with AWS's time, not be final for every call from then on.
  @Test
  void aClockSteppedRightAfterASkewWasLearnt_isSignedWithAwsClockAgain() throws Exception {
    server = Scripted.plain();
    dev.drainguard.testing.MutableClock clock = new dev.drainguard.testing.MutableClock(NOW);
    String awsNow =
        DateTimeFormatter.RFC_1123_DATE_TIME.format(
            NOW.plus(Duration.ofMinutes(10)).atOffset(ZoneOffset.UTC));
    server.answer(
        400,
        "Date: " + awsNow + "\r\n",
        "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>Signature expired:"
            + " 20261207T100000Z is now earlier than 20261207T100500Z</Message></Error>"
            + "</ErrorResponse>");
    server.answer(200, "", DESCRIBE_OK);
    QueryLifecycleActions api =
        new QueryLifecycleActions(
            "us-east-1",
            new Endpoint(server.uri(), "the test"),
            KEYS,
            LoopbackGuard.of(true),
            POLICY,
            sleeper,
            clock,
            null,
            Optional.empty());
    assertThat(api.describeInstance("i-1")).isPresent();

    clock.set(NOW.plus(Duration.ofMinutes(10))); // NTP steps the clock to AWS's time
    server.answer(
        400,
        "Date: " + awsNow + "\r\n",
        "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>Signature not yet"
            + " current: 20261207T102000Z is still later than 20261207T101500Z</Message></Error>"
            + "</ErrorResponse>");
    server.answer(200, "", DESCRIBE_OK);

    assertThat(api.describeInstance("i-1")).isPresent();
    assertThat(server.requests.get(2)).contains("\r\nX-Amz-Date: 20261207T102000Z\r\n");
    assertThat(server.requests.get(3)).contains("\r\nX-Amz-Date: 20261207T101000Z\r\n");
  }

  // Adversary: the clock is 10 minutes off and two calls are signed before AWS has said so (the
  // heartbeat and a describe go out together, as the core's slots allow). The first refusal teaches
  // the offset; the second, signed before that, was read against the offset learnt meanwhile,
  // looked like "the clocks agree" and was final: a call given up that the offset would have let
  // through. A refusal is a clock fault when AWS's Date is far from the time that request was
  // signed with, whatever another call has learnt since.
  @Test
  void twoCallsSignedBeforeTheSkewWasLearnt_bothSignedAgainWithAwsClock() throws Exception {
    String awsNow =
        DateTimeFormatter.RFC_1123_DATE_TIME.format(
            NOW.plus(Duration.ofMinutes(10)).atOffset(ZoneOffset.UTC));
    String refusal =
        "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>Signature expired:"
            + " 20261207T100000Z is now earlier than 20261207T100500Z</Message></Error>"
            + "</ErrorResponse>";
    byte[] r = refusal.getBytes(StandardCharsets.UTF_8);
    String refused =
        "HTTP/1.1 400 X\r\nDate: "
            + awsNow
            + "\r\nContent-Type: text/xml\r\nContent-Length: "
            + r.length
            + "\r\n\r\n"
            + refusal;
    String heartbeatOk =
        "<RecordLifecycleActionHeartbeatResponse><RecordLifecycleActionHeartbeatResult/>"
            + "</RecordLifecycleActionHeartbeatResponse>";
    List<String> requests = new CopyOnWriteArrayList<>();
    try (ServerSocket listening = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      Thread aws =
          new Thread(
              () -> {
                try {
                  // both calls in, signed with the host's clock, before either is answered
                  Socket first = listening.accept();
                  requests.add(Scripted.read(first.getInputStream()));
                  Socket second = listening.accept();
                  requests.add(Scripted.read(second.getInputStream()));
                  reply(first, refused);
                  // the first call learns the offset and is signed again: answered
                  while (true) {
                    try (Socket s = listening.accept()) {
                      String request = Scripted.read(s.getInputStream());
                      requests.add(request);
                      if (!request.contains("X-Amz-Date: 20261207T101000Z")) {
                        reply(s, refused);
                      } else {
                        String body =
                            request.contains("Action=RecordLifecycleActionHeartbeat")
                                ? heartbeatOk
                                : DESCRIBE_OK;
                        reply(s, ok(body));
                      }
                    }
                    if (!second.isClosed()) {
                      reply(second, refused); // only now: the offset has been learnt
                    }
                  }
                } catch (IOException closed) {
                  // the test is over
                }
              },
              "skewed-auto-scaling");
      aws.setDaemon(true);
      aws.start();
      QueryLifecycleActions api =
          client(URI.create("http://127.0.0.1:" + listening.getLocalPort()), null);
      java.util.concurrent.ExecutorService two =
          java.util.concurrent.Executors.newFixedThreadPool(2);
      try {
        java.util.concurrent.Future<ActionOutcome> heartbeat =
            two.submit(() -> api.heartbeat(new LifecycleHookRef("g", "drain", "i-1")));
        java.util.concurrent.Future<Optional<GroupMembership>> describe =
            two.submit(() -> api.describeInstance("i-1"));

        assertThat(heartbeat.get()).isEqualTo(ActionOutcome.ACCEPTED);
        assertThat(describe.get()).isPresent();
      } finally {
        two.shutdownNow();
      }
    }
    assertThat(requests.subList(0, 2)).allMatch(q -> q.contains("X-Amz-Date: 20261207T100000Z"));
  }

  private static void reply(Socket s, String answer) throws IOException {
    OutputStream out = s.getOutputStream();
    out.write(answer.getBytes(StandardCharsets.UTF_8));
    out.flush();
    s.close();
  }

  private static String ok(String body) {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    return "HTTP/1.1 200 X\r\nContent-Type: text/xml\r\nContent-Length: "
        + b.length
        + "\r\n\r\n"
        + body;
  }

  // The same code without a clock far off is what it says: a refusal, final at once.
  @Test
  void aSignatureRefusedWithTheClocksAgreeing_isFinal() throws Exception {
    server = Scripted.plain();
    server.answer(
        403,
        "Date: "
            + DateTimeFormatter.RFC_1123_DATE_TIME.format(NOW.atOffset(ZoneOffset.UTC))
            + "\r\n",
        "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature"
            + " we calculated does not match</Message></Error></ErrorResponse>");

    LifecycleApiException e =
        catchThrowableOfType(
            LifecycleApiException.class, () -> client(server.uri(), null).describeInstance("i-1"));

    assertThat(e.kind()).isEqualTo(LifecycleApiException.Kind.REJECTED);
    assertThat(e.errorCode()).isEqualTo("SignatureDoesNotMatch");
    assertThat(server.requests).hasSize(1);
  }

  // Keys AWS says have expired are given back to their provider, and the same call is signed at
  // once with the ones it gives next; a second refusal is final.
  @Test
  void credentialsRefusedAsExpired_newOnesAskedFor_once() throws Exception {
    server = Scripted.plain();
    String expired =
        "<ErrorResponse><Error><Code>ExpiredToken</Code><Message>The security token included in"
            + " the request is expired</Message></Error></ErrorResponse>";
    server.answer(403, "", expired);
    server.answer(200, "", DESCRIBE_OK);
    server.answer(403, "", expired);
    server.answer(403, "", expired);
    List<AwsCredentials> refused = new CopyOnWriteArrayList<>();
    CredentialsProvider rotating =
        new CredentialsProvider() {
          @Override
          public AwsCredentials resolve() {
            return AwsCredentials.of("AKID" + refused.size(), "s", "rotating keys");
          }

          @Override
          public void refused(AwsCredentials c) {
            refused.add(c);
          }
        };
    QueryLifecycleActions client =
        new QueryLifecycleActions(
            "us-east-1",
            new Endpoint(server.uri(), "the test"),
            rotating,
            LoopbackGuard.of(true),
            POLICY,
            sleeper,
            Clock.fixed(NOW, ZoneOffset.UTC),
            null,
            Optional.empty());

    assertThat(client.describeInstance("i-1")).isPresent();
    assertThat(refused).extracting(AwsCredentials::accessKeyId).containsExactly("AKID0");
    assertThat(server.requests.get(1)).contains("Credential=AKID1/");
    assertThat(sleeper.pauses()).isEmpty();

    LifecycleApiException e =
        catchThrowableOfType(LifecycleApiException.class, () -> client.describeInstance("i-1"));
    assertThat(e.errorCode()).isEqualTo("ExpiredToken");
    assertThat(e.kind()).isEqualTo(LifecycleApiException.Kind.REJECTED);
    assertThat(server.requests).hasSize(4);
  }

  // A 5xx is no answer about the action, whatever its body says: "No active Lifecycle Action"
  // sent with a 503 is retried, never read as the action being gone.
  @Test
  void noActiveActionInA5xx_isRetried_notTheActionGone() throws Exception {
    server = Scripted.plain();
    String body =
        "<ErrorResponse><Error><Code>ValidationError</Code><Message>No active Lifecycle Action"
            + " found with instance ID i-1</Message></Error></ErrorResponse>";
    server.answer(503, "", body);
    server.answer(
        200,
        "",
        "<RecordLifecycleActionHeartbeatResponse><RecordLifecycleActionHeartbeatResult/>"
            + "</RecordLifecycleActionHeartbeatResponse>");

    assertThat(client(server.uri(), null).heartbeat(new LifecycleHookRef("g", "h", "i-1")))
        .isEqualTo(ActionOutcome.ACCEPTED);
    assertThat(server.requests).hasSize(2);
  }

  // Any 2xx is a success, as the SDK read it.
  @Test
  void a2xxOtherThan200_isASuccess() throws Exception {
    server = Scripted.plain();
    server.answer(202, "", DESCRIBE_OK);

    assertThat(client(server.uri(), null).describeInstance("i-1")).isPresent();
  }

  // Adversary: a 2xx whose body is well-formed XML but not the action's answer (a TLS-inspecting
  // proxy's XHTML page, an ErrorResponse sent with 200, another call's answer with 206) was read as
  // ACCEPTED: heartbeat and complete read nothing from their answer. A heartbeat believed accepted
  // is not retried for HeartbeatTimeout/3, and a false ABANDON stops them altogether, while the
  // hook runs out. It must be a fault of the exchange: retried, then unavailable.
  static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> notTheAnswer() {
    return java.util.stream.Stream.of(
        org.junit.jupiter.params.provider.Arguments.of(
            200, "<html><body><h1>Access to this site is blocked</h1></body></html>"),
        org.junit.jupiter.params.provider.Arguments.of(
            200,
            "<ErrorResponse><Error><Code>AccessDenied</Code><Message>User is not authorized"
                + "</Message></Error></ErrorResponse>"),
        org.junit.jupiter.params.provider.Arguments.of(206, DESCRIBE_OK));
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.MethodSource("notTheAnswer")
  void a2xxThatIsNotTheActionsAnswer_isNeverAccepted(int status, String body) throws Exception {
    server = Scripted.plain();
    for (int i = 0; i < 6; i++) {
      server.answer(status, "", body);
    }
    LifecycleHookRef ref = new LifecycleHookRef("g", "drain", "i-1");
    QueryLifecycleActions client = client(server.uri(), null);

    LifecycleApiException heartbeat =
        catchThrowableOfType(LifecycleApiException.class, () -> client.heartbeat(ref));
    LifecycleApiException abandon =
        catchThrowableOfType(
            LifecycleApiException.class, () -> client.complete(ref, LifecycleResult.ABANDON));

    assertThat(heartbeat).as("heartbeat").isNotNull();
    assertThat(heartbeat.kind()).isEqualTo(LifecycleApiException.Kind.UNAVAILABLE);
    assertThat(abandon).as("complete(ABANDON)").isNotNull();
    assertThat(abandon.kind()).isEqualTo(LifecycleApiException.Kind.UNAVAILABLE);
    assertThat(server.requests).hasSize(6);
  }

  // Adversary (holds): a 204, or any 2xx without a body, is no answer either.
  @Test
  void a204WithoutABody_isNeverAccepted() throws Exception {
    server = Scripted.plain();
    for (int i = 0; i < 3; i++) {
      server.answer(204, "", "");
    }

    LifecycleApiException e =
        catchThrowableOfType(
            LifecycleApiException.class,
            () -> client(server.uri(), null).heartbeat(new LifecycleHookRef("g", "drain", "i-1")));

    assertThat(e).isNotNull();
    assertThat(e.kind()).isEqualTo(LifecycleApiException.Kind.UNAVAILABLE);
    assertThat(server.requests).hasSize(3);
  }

  // Adversary (holds): an endpoint that mixes every answer that is retried at once and not counted
  // (a clock refusal whose Date moves on each time, keys refused as expired) with 503s gets no more
  // than the policy's attempts plus one of each: the call ends, with the policy's pauses only.
  @Test
  void skewAndCredentialRefusalsMixedWith503s_boundedByThePolicyPlusOneOfEach() throws Exception {
    server = Scripted.plain();
    String expired =
        "<ErrorResponse><Error><Code>ExpiredToken</Code><Message>The security token included in"
            + " the request is expired</Message></Error></ErrorResponse>";
    for (int i = 1; i <= 10; i++) {
      server.answer(503, "", "<html><body>busy</body></html>");
      if (i % 2 == 1) {
        server.answer(
            400,
            "Date: "
                + DateTimeFormatter.RFC_1123_DATE_TIME.format(
                    NOW.plus(Duration.ofMinutes(10L * i)).atOffset(ZoneOffset.UTC))
                + "\r\n",
            "<ErrorResponse><Error><Code>RequestExpired</Code><Message>Request has expired"
                + "</Message></Error></ErrorResponse>");
      } else {
        server.answer(403, "", expired);
      }
    }

    LifecycleApiException e =
        catchThrowableOfType(
            LifecycleApiException.class,
            () -> client(server.uri(), null).heartbeat(new LifecycleHookRef("g", "drain", "i-1")));

    assertThat(e.kind()).isEqualTo(LifecycleApiException.Kind.UNAVAILABLE);
    assertThat(server.requests).hasSize(POLICY.attempts() + 2);
    assertThat(sleeper.pauses()).hasSize(POLICY.attempts() - 1);
  }

  // A load balancer's page is no ErrorResponse: 5xx is retried and, lasting, unavailable.
  @Test
  void anHtml503_isRetried_thenUnavailable_withoutACode() throws Exception {
    server = Scripted.plain();
    for (int i = 0; i < 3; i++) {
      server.answer(503, "", "<html><body><h1>503 Service Unavailable</h1></body></html>");
    }

    LifecycleApiException e =
        catchThrowableOfType(
            LifecycleApiException.class, () -> client(server.uri(), null).describeInstance("i-1"));

    assertThat(e.kind()).isEqualTo(LifecycleApiException.Kind.UNAVAILABLE);
    assertThat(e.errorCode()).isNull();
    assertThat(e).hasMessageContaining("HTTP 503 (no error code)");
    assertThat(sleeper.pauses()).hasSize(2);
  }

  // A 200 cut short, or without the fields every answer has, is never read as "not in a group":
  // it is retried like a 5xx and, lasting, unavailable.
  @Test
  void aBroken200_isRetried_andNeverAnEmptyAnswer() throws Exception {
    server = Scripted.plain();
    server.answer(200, "", DESCRIBE_OK.substring(0, DESCRIBE_OK.length() / 2));
    server.answer(
        200, "", DESCRIBE_OK.replace("<LifecycleState>Terminating:Wait</LifecycleState>", ""));
    server.answer(
        200, "", DESCRIBE_OK.replaceAll("<AutoScalingInstances>.*</AutoScalingInstances>", ""));

    LifecycleApiException e =
        catchThrowableOfType(
            LifecycleApiException.class, () -> client(server.uri(), null).describeInstance("i-1"));

    assertThat(e.kind()).isEqualTo(LifecycleApiException.Kind.UNAVAILABLE);
    assertThat(e)
        .hasMessageContaining("no AutoScalingInstances in DescribeAutoScalingInstancesResult");
    assertThat(server.requests).hasSize(3);
    assertThat(sleeper.pauses()).hasSize(2);
  }

  @Test
  void aBroken200ThenAGoodOne_isTheGoodOne() throws Exception {
    server = Scripted.plain();
    server.answer(200, "", DESCRIBE_OK.substring(0, DESCRIBE_OK.length() / 2));
    server.answer(200, "", DESCRIBE_OK);

    assertThat(client(server.uri(), null).describeInstance("i-1"))
        .contains(new GroupMembership("g", "Terminating:Wait", true));
    assertThat(sleeper.pauses()).hasSize(1);
  }

  @Test
  void overTls_theCertificateForTheAddressIsAccepted(@TempDir Path dir) throws Exception {
    KeyStore ks = TestTls.keyStore(dir, "IP:127.0.0.1");
    server = Scripted.tls(ks);
    server.answer(200, "", DESCRIBE_OK);

    assertThat(client(server.uri(), TestTls.trusting(ks)).describeInstance("i-1")).isPresent();
    assertThat(server.requests.get(0)).startsWith("POST / HTTP/1.1\r\n");
  }

  // A trusted certificate for another name is refused: the host name is checked, not only the
  // chain. No request reaches the server; the call fails as unavailable, never as an answer.
  @Test
  void overTls_aCertificateForAnotherName_isRefused(@TempDir Path dir) throws Exception {
    KeyStore ks = TestTls.keyStore(dir, "DNS:autoscaling.example.invalid");
    server = Scripted.tls(ks);

    LifecycleApiException e =
        catchThrowableOfType(
            LifecycleApiException.class,
            () -> client(server.uri(), TestTls.trusting(ks)).describeInstance("i-1"));

    assertThat(e.kind()).isEqualTo(LifecycleApiException.Kind.UNAVAILABLE);
    assertThat(e).hasMessageContaining("127.0.0.1");
    assertThat(server.requests).isEmpty();
  }

  // HTTPS_PROXY: the call goes through a CONNECT tunnel, TLS end to end with the endpoint.
  @Test
  void throughAProxy_aTunnelToTheEndpoint_tlsEndToEnd(@TempDir Path dir) throws Exception {
    KeyStore ks = TestTls.keyStore(dir, "IP:127.0.0.1");
    server = Scripted.tls(ks);
    server.answer(200, "", DESCRIBE_OK);
    try (ConnectProxy proxy = new ConnectProxy(200)) {
      Optional<HttpsProxy> via =
          HttpsProxy.forTarget(
              server.uri(), Map.of("HTTPS_PROXY", "http://127.0.0.1:" + proxy.port()), k -> null);

      assertThat(client(server.uri(), TestTls.trusting(ks), via).describeInstance("i-1"))
          .isPresent();
      assertThat(proxy.asked).containsExactly("CONNECT 127.0.0.1:" + server.uri().getPort());
      assertThat(server.requests).hasSize(1);
    }
  }

  @Test
  void aProxyThatRefusesTheTunnel_isUnavailable_namingTheProxyAndItsSetting(@TempDir Path dir)
      throws Exception {
    server = Scripted.tls(TestTls.keyStore(dir, "IP:127.0.0.1"));
    try (ConnectProxy proxy = new ConnectProxy(407)) {
      Optional<HttpsProxy> via =
          HttpsProxy.forTarget(
              server.uri(), Map.of("HTTPS_PROXY", "127.0.0.1:" + proxy.port()), k -> null);

      LifecycleApiException e =
          catchThrowableOfType(
              LifecycleApiException.class,
              () -> client(server.uri(), null, via).describeInstance("i-1"));

      assertThat(e.kind()).isEqualTo(LifecycleApiException.Kind.UNAVAILABLE);
      assertThat(e)
          .hasMessageContaining("proxy http://127.0.0.1:" + proxy.port() + " (env HTTPS_PROXY)")
          .hasMessageContaining("HTTP 407");
      assertThat(server.requests).isEmpty();
    }
  }

  /** A CONNECT proxy on loopback: answers {@code status}, and on 200 pumps bytes both ways. */
  private static final class ConnectProxy implements AutoCloseable {
    private final ServerSocket socket = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
    final List<String> asked = new CopyOnWriteArrayList<>();

    ConnectProxy(int status) throws IOException {
      Thread t =
          new Thread(
              () -> {
                while (!socket.isClosed()) {
                  try {
                    Socket client = socket.accept();
                    String head = Scripted.read(client.getInputStream());
                    String line = head.substring(0, head.indexOf("\r\n"));
                    asked.add(line.replace(" HTTP/1.1", ""));
                    OutputStream out = client.getOutputStream();
                    out.write(
                        ("HTTP/1.1 " + status + " X\r\nContent-Length: 0\r\n\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                    if (status != 200) {
                      client.close();
                      continue;
                    }
                    String[] hostPort = line.split(" ")[1].split(":");
                    Socket target = new Socket(hostPort[0], Integer.parseInt(hostPort[1]));
                    pump(client, target);
                    pump(target, client);
                  } catch (IOException e) {
                    // closing
                  }
                }
              },
              "connect-proxy");
      t.setDaemon(true);
      t.start();
    }

    int port() {
      return socket.getLocalPort();
    }

    private static void pump(Socket from, Socket to) {
      Thread t =
          new Thread(
              () -> {
                try {
                  from.getInputStream().transferTo(to.getOutputStream());
                } catch (IOException e) {
                  // one side closed
                } finally {
                  try {
                    to.shutdownOutput();
                  } catch (IOException e) {
                    // already closed
                  }
                }
              },
              "connect-proxy-pump");
      t.setDaemon(true);
      t.start();
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /** Accepts connections one at a time and answers each with the next scripted answer. */
  private static final class Scripted implements AutoCloseable {
    private final ServerSocket socket;
    private final Deque<String> answers = new ArrayDeque<>();
    final List<String> requests = new CopyOnWriteArrayList<>();
    private final Thread thread;

    private Scripted(ServerSocket socket) {
      this.socket = socket;
      this.thread = new Thread(this::serve, "scripted-auto-scaling");
      thread.setDaemon(true);
      thread.start();
    }

    static Scripted plain() throws IOException {
      return new Scripted(new ServerSocket(0, 5, InetAddress.getLoopbackAddress()));
    }

    static Scripted tls(KeyStore ks) throws Exception {
      return new Scripted(TestTls.server(ks));
    }

    URI uri() {
      String scheme = socket instanceof javax.net.ssl.SSLServerSocket ? "https" : "http";
      return URI.create(scheme + "://127.0.0.1:" + socket.getLocalPort());
    }

    synchronized void answer(int status, String headers, String body) {
      byte[] b = body.getBytes(StandardCharsets.UTF_8);
      answers.add(
          "HTTP/1.1 "
              + status
              + " X\r\n"
              + headers
              + "Content-Type: text/xml\r\nContent-Length: "
              + b.length
              + "\r\n\r\n"
              + body);
    }

    private synchronized String next() {
      return answers.isEmpty() ? null : answers.poll();
    }

    private void serve() {
      while (!socket.isClosed()) {
        try (Socket s = socket.accept()) {
          s.setSoTimeout(5000);
          String request = read(s.getInputStream());
          requests.add(request);
          String answer = next();
          OutputStream out = s.getOutputStream();
          out.write(
              (answer != null ? answer : "HTTP/1.1 500 X\r\nContent-Length: 0\r\n\r\n")
                  .getBytes(StandardCharsets.UTF_8));
          out.flush();
        } catch (IOException e) {
          // a refused handshake, or the server closing
        }
      }
    }

    static String read(InputStream in) throws IOException {
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
        int c = in.read();
        if (c < 0) {
          throw new IOException("closed in the head");
        }
        head.write(c);
      }
      String h = head.toString(StandardCharsets.ISO_8859_1);
      int length = 0;
      for (String line : h.split("\r\n")) {
        if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
          length = Integer.parseInt(line.substring(15).strip());
        }
      }
      return h + new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
