package dev.drainguard.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.drainguard.imds.HttpInstanceMetadata;
import dev.drainguard.lifecycle.SdkLifecycleActions;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.ExecutableHttpRequest;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.HttpExecuteResponse;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;

/**
 * The guard proves itself: a refused endpoint is refused before the transport is asked, so no
 * connection is even attempted.
 *
 * <p>Two witnesses watch for connection attempts. A recording {@link SdkHttpClient} sits where the
 * real transport would, so the only way to a socket goes through it. Below it, for the tests that
 * use the real {@link UrlConnectionHttpClient}, a JVM-wide {@link ProxySelector} records every URI
 * {@code HttpURLConnection} is about to connect to and routes it to a canary {@link ServerSocket}
 * on 127.0.0.1, so even a leak could not leave the machine. The positive controls show both
 * witnesses do see a request that is allowed.
 */
class GuardedHttpClientTest {

  private static final LoopbackGuard GUARD = LoopbackGuard.of(true);
  private static final URI AUTOSCALING_US_EAST_1 =
      URI.create("https://autoscaling.us-east-1.amazonaws.com/");
  private static final StaticCredentialsProvider CREDENTIALS =
      StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test"));

  private Canary canary;
  private RecordingProxySelector connections;
  private ProxySelector previousSelector;

  @BeforeEach
  void watchConnections() throws IOException {
    canary = Canary.start();
    connections = new RecordingProxySelector(canary.address());
    previousSelector = ProxySelector.getDefault();
    ProxySelector.setDefault(connections);
  }

  @AfterEach
  void restore() throws IOException {
    ProxySelector.setDefault(previousSelector);
    canary.close();
  }

  @Test
  void prepareRequest_awsEndpoint_refusedBeforeTheDelegateIsAsked() {
    RecordingHttpClient delegate = new RecordingHttpClient(null);
    GuardedHttpClient http = new GuardedHttpClient(delegate, GUARD, "Auto Scaling");

    assertThatThrownBy(() -> http.prepareRequest(get(AUTOSCALING_US_EAST_1)))
        .isInstanceOf(EndpointRefusedException.class)
        .hasMessageContaining("Auto Scaling endpoint " + AUTOSCALING_US_EAST_1);
    assertThat(delegate.prepared()).isEmpty();
  }

  @Test
  void prepareRequest_loopback_handedToTheDelegate() {
    RecordingHttpClient delegate = new RecordingHttpClient(null);
    GuardedHttpClient http = new GuardedHttpClient(delegate, GUARD, "IMDS");
    URI loopback = URI.create("http://127.0.0.1:9/latest/api/token");

    http.prepareRequest(get(loopback));

    assertThat(delegate.prepared()).containsExactly(loopback);
  }

  // Positive control for the witnesses: without it, "nothing recorded" below could just mean the
  // ProxySelector is never consulted.
  @Test
  void call_loopback_reachesTheCanaryThroughTheRealTransport() throws IOException {
    URI target = URI.create("http://127.0.0.1:" + canary.port() + "/ping");
    try (GuardedHttpClient http =
        new GuardedHttpClient(UrlConnectionHttpClient.create(), GUARD, "test")) {

      HttpExecuteResponse response = http.prepareRequest(get(target)).call();

      assertThat(response.httpResponse().statusCode()).isEqualTo(204);
    }
    assertThat(connections.asked()).containsExactly(target);
    assertThat(canary.accepted()).isEqualTo(1);
  }

  @Test
  void imdsAdapter_linkLocalEndpoint_refusedAtConstruction() {
    URI imds = URI.create("http://169.254.169.254");

    assertThatThrownBy(
            () ->
                new HttpInstanceMetadata(
                    imds, LoopbackGuard.of(false), RetryPolicy.DEFAULT, d -> {}))
        .isInstanceOf(EndpointRefusedException.class)
        .hasMessageContaining("IMDS endpoint http://169.254.169.254");
    assertNoConnectionAttempted();
  }

  // A null endpoint means "the region's": the refusal names the real AWS endpoint that would have
  // been called and where it came from (it once read "endpoint null").
  @Test
  void lifecycleAdapter_nullEndpoint_refusedAtConstructionNamingTheRegionalEndpoint() {
    assertThatThrownBy(
            () ->
                new SdkLifecycleActions(
                    "us-east-1",
                    (URI) null,
                    CREDENTIALS,
                    LoopbackGuard.of(false),
                    RetryPolicy.DEFAULT,
                    d -> {}))
        .isInstanceOf(EndpointRefusedException.class)
        .hasMessageContaining(
            "Auto Scaling endpoint https://autoscaling.us-east-1.amazonaws.com (from the AWS"
                + " partition rules for region us-east-1)");
    assertNoConnectionAttempted();
  }

  // The second line of defence, should the adapter's constructor check ever be lost: an SDK client
  // left on its default regional endpoint fails its first call inside the transport guard.
  @Test
  void autoScalingClient_regionDefaultEndpoint_firstCallRefusedWithNothingSent() {
    RecordingHttpClient transport = new RecordingHttpClient(UrlConnectionHttpClient.create());
    try (AutoScalingClient client =
        AutoScalingClient.builder()
            .region(Region.US_EAST_1)
            .credentialsProvider(CREDENTIALS)
            .httpClient(new GuardedHttpClient(transport, GUARD, "Auto Scaling"))
            .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
            .build()) {

      Throwable thrown =
          catchThrowable(() -> client.describeAutoScalingInstances(r -> r.instanceIds("i-0abc")));

      assertThat(refusalIn(thrown))
          .hasMessageContaining(
              "Auto Scaling endpoint https://autoscaling.us-east-1.amazonaws.com");
    }
    assertThat(transport.prepared()).isEmpty();
    assertNoConnectionAttempted();
  }

  private void assertNoConnectionAttempted() {
    assertThat(connections.asked()).as("URIs HttpURLConnection tried to connect to").isEmpty();
    assertThat(canary.accepted()).as("connections the canary accepted").isZero();
  }

  /** The refusal itself, whether the SDK passed it through as is or wrapped it. */
  private static Throwable refusalIn(Throwable thrown) {
    for (Throwable t = thrown; t != null; t = t.getCause()) {
      if (t instanceof EndpointRefusedException) {
        return t;
      }
    }
    throw new AssertionError("expected an EndpointRefusedException in the chain of " + thrown);
  }

  private static HttpExecuteRequest get(URI uri) {
    return HttpExecuteRequest.builder()
        .request(SdkHttpFullRequest.builder().uri(uri).method(SdkHttpMethod.GET).build())
        .build();
  }

  /** Records what it is asked to prepare, then hands it to a real transport (if any). */
  private static final class RecordingHttpClient implements SdkHttpClient {
    private final SdkHttpClient real;
    private final List<URI> prepared = new CopyOnWriteArrayList<>();

    RecordingHttpClient(SdkHttpClient real) {
      this.real = real;
    }

    List<URI> prepared() {
      return List.copyOf(prepared);
    }

    @Override
    public ExecutableHttpRequest prepareRequest(HttpExecuteRequest request) {
      prepared.add(request.httpRequest().getUri());
      if (real != null) {
        return real.prepareRequest(request);
      }
      return new ExecutableHttpRequest() {
        @Override
        public HttpExecuteResponse call() {
          throw new UnsupportedOperationException("recording fake: no transport");
        }

        @Override
        public void abort() {}
      };
    }

    @Override
    public void close() {
      if (real != null) {
        real.close();
      }
    }
  }

  /** Records every URI a connection is opened for, and sends it to the canary as its proxy. */
  private static final class RecordingProxySelector extends ProxySelector {
    private final Proxy toCanary;
    private final List<URI> asked = new CopyOnWriteArrayList<>();

    RecordingProxySelector(InetSocketAddress canary) {
      this.toCanary = new Proxy(Proxy.Type.HTTP, canary);
    }

    List<URI> asked() {
      return List.copyOf(asked);
    }

    @Override
    public List<Proxy> select(URI uri) {
      asked.add(uri);
      return List.of(toCanary);
    }

    @Override
    public void connectFailed(URI uri, SocketAddress sa, IOException ioe) {}
  }

  /** A loopback server that counts connections and answers each request 204, then closes. */
  private static final class Canary implements AutoCloseable {
    private final ServerSocket server;
    private final AtomicInteger accepted = new AtomicInteger();

    private Canary(ServerSocket server) {
      this.server = server;
    }

    static Canary start() throws IOException {
      Canary canary = new Canary(new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1")));
      Thread t = new Thread(canary::serve, "guard-test-canary");
      t.setDaemon(true);
      t.start();
      return canary;
    }

    int port() {
      return server.getLocalPort();
    }

    InetSocketAddress address() {
      return new InetSocketAddress(server.getInetAddress(), port());
    }

    int accepted() {
      return accepted.get();
    }

    private void serve() {
      while (!server.isClosed()) {
        try (Socket s = server.accept()) {
          accepted.incrementAndGet();
          readHead(s.getInputStream());
          OutputStream out = s.getOutputStream();
          out.write(
              "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
          out.flush();
        } catch (IOException e) {
          // closed by the test, or a client that went away: nothing to answer
        }
      }
    }

    private static void readHead(InputStream in) throws IOException {
      int matched = 0;
      byte[] end = {'\r', '\n', '\r', '\n'};
      for (int b = in.read(); b >= 0; b = in.read()) {
        matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        if (matched == end.length) {
          return;
        }
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }
}
