package dev.drainguard.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.StringJoiner;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathFactory;
import org.w3c.dom.Document;

/** Plain {@link HttpClient} calls to a {@link Simulator}, the way the SDK would make them. */
final class SimClient {

  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(TIMEOUT).build();
  private final Simulator sim;

  SimClient(Simulator sim) {
    this.sim = sim;
  }

  /** {@code PUT /latest/api/token}; {@code ttl} null sends no TTL header. */
  HttpResponse<String> putToken(String ttl) throws IOException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(sim.imdsEndpoint().resolve(ImdsHandler.TOKEN_PATH))
            .timeout(TIMEOUT)
            .PUT(HttpRequest.BodyPublishers.noBody());
    if (ttl != null) {
      b.header(ImdsHandler.TTL_HEADER, ttl);
    }
    return send(b.build());
  }

  String token() throws IOException {
    HttpResponse<String> r = putToken("21600");
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  /** GET of an IMDS path; {@code token} null sends none (IMDSv1). */
  HttpResponse<String> imdsGet(String path, String token) throws IOException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(sim.imdsEndpoint().resolve(path)).timeout(TIMEOUT).GET();
    if (token != null) {
      b.header(ImdsHandler.TOKEN_HEADER, token);
    }
    return send(b.build());
  }

  /** A Query API call: {@code Action}, {@code Version} and the given name/value pairs. */
  HttpResponse<String> api(String action, String... nameValues) throws IOException {
    StringJoiner form = new StringJoiner("&");
    if (action != null) {
      form.add("Action=" + encode(action));
    }
    form.add("Version=2011-01-01");
    for (int i = 0; i < nameValues.length; i += 2) {
      form.add(encode(nameValues[i]) + "=" + encode(nameValues[i + 1]));
    }
    HttpRequest request =
        HttpRequest.newBuilder(sim.autoScalingEndpoint().resolve("/"))
            .timeout(TIMEOUT)
            .header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
            .header("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/x")
            .POST(HttpRequest.BodyPublishers.ofString(form.toString()))
            .build();
    return send(request);
  }

  HttpResponse<String> heartbeat(String group, String hook, String instanceId) throws IOException {
    return api(
        "RecordLifecycleActionHeartbeat",
        "AutoScalingGroupName",
        group,
        "LifecycleHookName",
        hook,
        "InstanceId",
        instanceId);
  }

  HttpResponse<String> complete(String group, String hook, String instanceId, String result)
      throws IOException {
    return api(
        "CompleteLifecycleAction",
        "AutoScalingGroupName",
        group,
        "LifecycleHookName",
        hook,
        "InstanceId",
        instanceId,
        "LifecycleActionResult",
        result);
  }

  /** Evaluates an XPath (element names without namespace) against an XML body. */
  static String xpath(String xml, String expression) {
    try {
      DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
      Document doc =
          f.newDocumentBuilder()
              .parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
      return (String)
          XPathFactory.newInstance().newXPath().evaluate(expression, doc, XPathConstants.STRING);
    } catch (Exception e) {
      throw new IllegalStateException("cannot evaluate " + expression + " on " + xml, e);
    }
  }

  private HttpResponse<String> send(HttpRequest request) throws IOException {
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UncheckedIOException(new IOException("interrupted", e));
    }
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
