package dev.drainguard.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity;

/**
 * {@link SigV4} against the AWS SDK's own signer ({@code AwsV4HttpSigner}, same request, clock and
 * credentials), and against known answers of AWS's Signature Version 4 test suite.
 */
class SigV4Test {

  private static final String FORM = "application/x-www-form-urlencoded; charset=utf-8";
  private static final Instant NOW = Instant.parse("2026-03-14T15:09:26Z");
  private static final AwsCredentials LONG_TERM =
      AwsCredentials.of("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "test");
  private static final AwsCredentials SESSION =
      new AwsCredentials(
          "ASIAEXAMPLE",
          "secret/with+reserved=chars",
          Optional.of("IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ=="),
          Optional.of(NOW.plusSeconds(3600)),
          "test");

  /** One request, as the Auto Scaling client will send it and as the SDK sees it. */
  record Case(
      String name,
      String uri,
      Map<String, String> headers,
      String body,
      AwsCredentials credentials,
      String region,
      String service) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Arguments> requests() {
    String heartbeat =
        "Action=RecordLifecycleActionHeartbeat&Version=2011-01-01"
            + "&AutoScalingGroupName=workers&LifecycleHookName=drain-hook"
            + "&InstanceId=i-0123456789abcdef0";
    return Stream.of(
            new Case(
                "long-term keys, form POST to /",
                "https://autoscaling.eu-west-1.amazonaws.com/",
                headers("autoscaling.eu-west-1.amazonaws.com"),
                heartbeat,
                LONG_TERM,
                "eu-west-1",
                "autoscaling"),
            new Case(
                "session token",
                "https://autoscaling.us-east-1.amazonaws.com/",
                headers("autoscaling.us-east-1.amazonaws.com"),
                heartbeat,
                SESSION,
                "us-east-1",
                "autoscaling"),
            new Case(
                "path with encoded and dot segments, unsorted query with repeats and no value",
                "https://example.amazonaws.com/a%20b/c%2Fd/./e/../f~x:y"
                    + "?Zeta=2&alpha=1&alpha=0&c=x%20y&flag&%E1%88%B4=bar",
                headers("example.amazonaws.com"),
                heartbeat,
                SESSION,
                "us-west-2",
                "autoscaling"),
            new Case(
                "body with reserved and non-ASCII characters",
                "https://autoscaling.eu-central-1.amazonaws.com/",
                headers("autoscaling.eu-central-1.amazonaws.com"),
                "Action=CompleteLifecycleAction&LifecycleHookName=hook%2Fa%20b%2Bc%3D%26"
                    + "&Note=caf\u00e9 & more=+/?#[]@!$'()*,;",
                LONG_TERM,
                "eu-central-1",
                "autoscaling"),
            new Case(
                "non-default port in Host (moto, the simulator)",
                "http://127.0.0.1:5000/",
                headers("127.0.0.1:5000"),
                heartbeat,
                SESSION,
                "us-east-1",
                "autoscaling"),
            new Case(
                "header values with runs of spaces; User-Agent left unsigned",
                "https://autoscaling.us-east-1.amazonaws.com/",
                withExtra(
                    headers("autoscaling.us-east-1.amazonaws.com"),
                    Map.of("X-Custom", "  a   b  c ", "User-Agent", "drainguard/0.1")),
                "",
                LONG_TERM,
                "us-east-1",
                "autoscaling"))
        .map(Arguments::of);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("requests")
  void authorization_sameAsTheSdkSigner(Case c) {
    byte[] body = c.body().getBytes(StandardCharsets.UTF_8);

    Map<String, String> ours =
        SigV4.sign(
            "POST",
            URI.create(c.uri()),
            c.headers(),
            body,
            c.credentials(),
            c.region(),
            c.service(),
            NOW);

    SdkHttpRequest sdk = sdkSign(c, body);
    assertThat(ours.get("Authorization"))
        .isEqualTo(sdk.firstMatchingHeader("Authorization").orElseThrow());
    assertThat(ours.get("X-Amz-Date"))
        .isEqualTo(sdk.firstMatchingHeader("X-Amz-Date").orElseThrow());
    assertThat(ours.get("X-Amz-Content-Sha256"))
        .isEqualTo(sdk.firstMatchingHeader("X-Amz-Content-Sha256").orElseThrow());
    assertThat(Optional.ofNullable(ours.get("X-Amz-Security-Token")))
        .isEqualTo(sdk.firstMatchingHeader("X-Amz-Security-Token"))
        .isEqualTo(c.credentials().sessionToken());
  }

  private static SdkHttpRequest sdkSign(Case c, byte[] body) {
    SdkHttpRequest.Builder request =
        SdkHttpRequest.builder().method(SdkHttpMethod.POST).uri(URI.create(c.uri()));
    c.headers().forEach(request::putHeader);
    AwsCredentials k = c.credentials();
    AwsCredentialsIdentity identity =
        k.sessionToken().isPresent()
            ? AwsSessionCredentialsIdentity.create(
                k.accessKeyId(), k.secretAccessKey(), k.sessionToken().get())
            : AwsCredentialsIdentity.create(k.accessKeyId(), k.secretAccessKey());
    SignedRequest signed =
        AwsV4HttpSigner.create()
            .sign(
                r ->
                    r.identity(identity)
                        .request(request.build())
                        .payload(ContentStreamProvider.fromByteArray(body))
                        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, c.service())
                        .putProperty(AwsV4HttpSigner.REGION_NAME, c.region())
                        .putProperty(
                            AwsV4HttpSigner.SIGNING_CLOCK, Clock.fixed(NOW, ZoneOffset.UTC)));
    return signed.request();
  }

  private static final AwsCredentials SUITE_KEYS =
      AwsCredentials.of("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "suite");
  private static final Instant SUITE_TIME = Instant.parse("2015-08-30T12:36:00Z");
  private static final String SUITE_SCOPE =
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,";
  private static final String PARAM1_SHA256 =
      "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e";

  /**
   * AWS's Signature Version 4 test suite as AWS's Common Runtime signs it, with the payload hash
   * sent as {@code X-Amz-Content-Sha256} (what {@link SigV4#sign} sends): awslabs/aws-c-auth,
   * {@code tests/aws-signing-test-suite/v4/<case>/header-signed-request.txt} (commit 71a25bde).
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("crtSuite")
  void sign_awsCrtTestSuite(String name, String contentType, String signature) {
    Map<String, String> added =
        SigV4.sign(
            "POST",
            URI.create("https://example.amazonaws.com/"),
            suiteHeaders(contentType, "Content-Length", "13"),
            "Param1=value1".getBytes(StandardCharsets.UTF_8),
            SUITE_KEYS,
            "us-east-1",
            "service",
            SUITE_TIME);

    assertThat(added)
        .containsExactly(
            Map.entry("X-Amz-Date", "20150830T123600Z"),
            Map.entry("X-Amz-Content-Sha256", PARAM1_SHA256),
            Map.entry(
                "Authorization",
                SUITE_SCOPE
                    + " SignedHeaders=content-length;content-type;host;x-amz-content-sha256;"
                    + "x-amz-date, Signature="
                    + signature));
  }

  static Stream<Arguments> crtSuite() {
    return Stream.of(
        Arguments.of(
            "post-x-www-form-urlencoded",
            "application/x-www-form-urlencoded",
            "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b"),
        Arguments.of(
            "post-x-www-form-urlencoded-parameters",
            FORM,
            "328d1b9eaadca9f5818ef05e8392801e091653bafec24fcab71e7344e7f51422"));
  }

  /**
   * AWS's original Signature Version 4 test suite, published in the AWS General Reference
   * (docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html, since withdrawn), without
   * {@code X-Amz-Content-Sha256}: cases {@code post-x-www-form-urlencoded} and {@code
   * post-x-www-form-urlencoded-parameters} as kept in AWS's SDK for JavaScript (aws/aws-sdk-js-v3,
   * {@code packages/signature-v4/src/suite.fixture.ts}, commit 0574f9a1).
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("originalSuite")
  void sign_awsOriginalTestSuite(String name, String contentType, String signature) {
    Map<String, String> added =
        SigV4.sign(
            "POST",
            URI.create("https://example.amazonaws.com/"),
            suiteHeaders(contentType),
            "Param1=value1".getBytes(StandardCharsets.UTF_8),
            SUITE_KEYS,
            "us-east-1",
            "service",
            SUITE_TIME,
            false);

    assertThat(added)
        .containsExactly(
            Map.entry("X-Amz-Date", "20150830T123600Z"),
            Map.entry(
                "Authorization",
                SUITE_SCOPE
                    + " SignedHeaders=content-type;host;x-amz-date, Signature="
                    + signature));
  }

  static Stream<Arguments> originalSuite() {
    return Stream.of(
        Arguments.of(
            "post-x-www-form-urlencoded",
            "application/x-www-form-urlencoded",
            "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"),
        Arguments.of(
            "post-x-www-form-urlencoded-parameters",
            "application/x-www-form-urlencoded; charset=utf8",
            "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"));
  }

  /**
   * A session token is signed as {@code X-Amz-Security-Token}: case {@code post-sts-header-before}
   * of the suite (awslabs/aws-c-auth, {@code
   * tests/aws-signing-test-suite/v4/post-sts-header-before/header-signed-request.txt}, commit
   * 4ec99f28), an empty POST.
   */
  @Test
  void sign_sessionToken_awsTestSuite() {
    String token =
        "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRX"
            + "mxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKs"
            + "burEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u"
            + "0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA"
            + "==";
    AwsCredentials keys =
        new AwsCredentials(
            SUITE_KEYS.accessKeyId(),
            SUITE_KEYS.secretAccessKey(),
            Optional.of(token),
            Optional.empty(),
            "suite");

    Map<String, String> added =
        SigV4.sign(
            "POST",
            URI.create("https://example.amazonaws.com/"),
            Map.of("Host", "example.amazonaws.com"),
            new byte[0],
            keys,
            "us-east-1",
            "service",
            SUITE_TIME,
            false);

    assertThat(added)
        .containsExactly(
            Map.entry("X-Amz-Date", "20150830T123600Z"),
            Map.entry("X-Amz-Security-Token", token),
            Map.entry(
                "Authorization",
                SUITE_SCOPE
                    + " SignedHeaders=host;x-amz-date;x-amz-security-token, Signature="
                    + "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"));
  }

  private static Map<String, String> suiteHeaders(String contentType, String... more) {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("Content-Type", contentType);
    h.put("Host", "example.amazonaws.com");
    for (int i = 0; i < more.length; i += 2) {
      h.put(more[i], more[i + 1]);
    }
    return h;
  }

  @Test
  void sign_noHost_refused() {
    assertThatThrownBy(
            () ->
                SigV4.sign(
                    "POST",
                    URI.create("https://example.amazonaws.com/"),
                    Map.of("Content-Type", FORM),
                    new byte[0],
                    LONG_TERM,
                    "us-east-1",
                    "autoscaling",
                    NOW))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Host");
  }

  // A retry that passed the previous attempt's headers back in would sign its stale signature.
  @Test
  void sign_computedHeaderPassedIn_refused() {
    Map<String, String> retried = withExtra(headers("example.amazonaws.com"), Map.of());
    retried.put("Authorization", "AWS4-HMAC-SHA256 Credential=old");
    assertThatThrownBy(
            () ->
                SigV4.sign(
                    "POST",
                    URI.create("https://example.amazonaws.com/"),
                    retried,
                    new byte[0],
                    LONG_TERM,
                    "us-east-1",
                    "autoscaling",
                    NOW))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Authorization");
  }

  private static Map<String, String> headers(String host) {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("Host", host);
    h.put("Content-Type", FORM);
    return h;
  }

  private static Map<String, String> withExtra(Map<String, String> h, Map<String, String> extra) {
    Map<String, String> out = new LinkedHashMap<>(h);
    out.putAll(extra);
    return out;
  }
}
