package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.drainguard.config.Setting;
import dev.drainguard.drain.Phase;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Adversarial review of branch {@code core}: an IMDS answer whose body trickles in, through the
 * real agent, the real SDK client and the simulator behind a loopback proxy. Expected to FAIL until
 * the cause in the comment is fixed.
 */
class AdversaryImdsSlowBodyTest {

  static final String TARGET = "/latest/meta-data/autoscaling/target-lifecycle-state";

  @TempDir Path root;
  ScaleInHarness h;
  TricklingImds proxy;

  @AfterEach
  void tearDown() {
    if (proxy != null) {
      proxy.close(); // first: the agent's close waits for the IMDS read it is stuck in
    }
    if (h != null) {
      h.close();
    }
  }

  /**
   * Attack: the metadata service sends the headers of target-lifecycle-state and then its body one
   * byte every 500 ms, without end (a wedged IMDS proxy, a container metadata shim).
   *
   * <p>What went wrong (found by an adversarial review): the IMDS adapter bounded only the
   * connection (1 s) and each socket read (2 s); nothing bounded the exchange as a whole, against
   * DESIGN.md ("Every read is bounded as a whole (connect, headers and body)"). The single
   * ImdsPoller thread blocked in that read for as long as the bytes kept coming, so no later poll
   * happened: the termination that started meanwhile was never noticed, no heartbeat was sent, and
   * the hook timed out with the data. Each exchange now ends by {@code
   * HttpInstanceMetadata.EXCHANGE_LIMIT} ({@code net.BoundedHttp}).
   */
  @Test
  void targetStateBodyTricklesForever_aTerminationStartedMeanwhileIsStillNoticed()
      throws Exception {
    Path dir = Files.createDirectories(root.resolve("0/out-s3"));
    Files.write(dir.resolve("00001.pq"), new byte[4096]);
    h = new ScaleInHarness(Duration.ofSeconds(60), Duration.ZERO, root);
    proxy = TricklingImds.start(h.sim.imdsEndpoint());
    h.set(Setting.IMDS_ENDPOINT, proxy.uri().toString());
    h.startAgent();
    h.advance(Duration.ofSeconds(2), Duration.ofSeconds(1));

    proxy.trickle.set(true); // the next read of the target state trickles
    h.clock.advance(Duration.ofSeconds(1));
    await().atMost(Duration.ofSeconds(10)).until(() -> proxy.trickling.get() > 0);
    proxy.trickle.set(false); // every later request is answered at once

    h.sim.terminate(ScaleInHarness.INSTANCE);
    for (int i = 0; i < 15; i++) {
      h.clock.advance(Duration.ofSeconds(1));
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> !h.status().evaluatedAt().isBefore(h.clock.instant()));
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(h.status().phase())
                    .as(
                        "15 s after the termination, with IMDS answering every request but the"
                            + " one trickling")
                    .isNotEqualTo(Phase.IN_SERVICE));
  }

  /**
   * IMDS on loopback, forwarding to the simulator's, except that while {@link #trickle} is set a
   * GET of the target state answers 200 and then trickles its body until {@link #close()}.
   */
  static final class TricklingImds implements AutoCloseable {
    final AtomicBoolean trickle = new AtomicBoolean();
    final AtomicInteger trickling = new AtomicInteger();
    private final CountDownLatch closed = new CountDownLatch(1);
    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final URI upstream;
    private final HttpClient client = HttpClient.newHttpClient();

    private TricklingImds(HttpServer server, URI upstream) {
      this.server = server;
      this.upstream = upstream;
    }

    static TricklingImds start(URI upstream) throws IOException {
      HttpServer s =
          HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      TricklingImds p = new TricklingImds(s, upstream);
      s.createContext("/", p::handle);
      s.setExecutor(p.threads);
      s.start();
      return p;
    }

    URI uri() {
      return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    private void handle(HttpExchange ex) throws IOException {
      try (ex) {
        String path = ex.getRequestURI().getPath();
        if (ex.getRequestMethod().equals("GET") && path.equals(TARGET) && trickle.get()) {
          trickling.incrementAndGet();
          ex.sendResponseHeaders(200, 0); // chunked: the body ends only when we say so
          OutputStream out = ex.getResponseBody();
          out.write("InService".getBytes(StandardCharsets.US_ASCII));
          out.flush();
          while (!closed.await(500, TimeUnit.MILLISECONDS)) {
            out.write(' ');
            out.flush();
          }
          return;
        }
        forward(ex);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    private void forward(HttpExchange ex) throws IOException, InterruptedException {
      HttpRequest.Builder b =
          HttpRequest.newBuilder(upstream.resolve(ex.getRequestURI().toString()))
              .timeout(Duration.ofSeconds(10))
              .method(ex.getRequestMethod(), HttpRequest.BodyPublishers.noBody());
      ex.getRequestHeaders()
          .forEach(
              (k, vs) -> {
                if (k.toLowerCase().startsWith("x-aws-ec2-metadata")) {
                  vs.forEach(v -> b.header(k, v));
                }
              });
      HttpResponse<byte[]> r = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
      r.headers()
          .map()
          .forEach(
              (k, vs) -> {
                if (k.toLowerCase().startsWith("x-aws-ec2-metadata")) {
                  vs.forEach(v -> ex.getResponseHeaders().add(k, v));
                }
              });
      byte[] body = r.body();
      ex.sendResponseHeaders(r.statusCode(), body.length == 0 ? -1 : body.length);
      if (body.length > 0) {
        ex.getResponseBody().write(body);
      }
    }

    @Override
    public void close() {
      closed.countDown();
      server.stop(0);
      threads.shutdownNow();
    }
  }
}
