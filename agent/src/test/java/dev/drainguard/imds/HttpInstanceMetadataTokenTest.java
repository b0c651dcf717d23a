package dev.drainguard.imds;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.drainguard.net.Endpoint;
import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.net.RecordingSleeper;
import dev.drainguard.net.RetryPolicy;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What an idle poll costs IMDS: the session token is kept for its TTL, not fetched again for every
 * read. Guards against a change that rebuilds the SDK client (and so its token cache) per read,
 * which would double the requests of every 5 s poll.
 */
class HttpInstanceMetadataTokenTest {

  private static final String TOKEN = "session-token-1";

  private final AtomicInteger puts = new AtomicInteger();
  private final AtomicInteger gets = new AtomicInteger();
  private final AtomicInteger refused = new AtomicInteger();
  private final AtomicLong nanos = new AtomicLong(System.nanoTime());
  private final AtomicReference<String> ttlAsked = new AtomicReference<>();
  private HttpServer server;
  private HttpInstanceMetadata imds;

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/latest/api/token", this::token);
    server.createContext("/latest/meta-data/", this::metadata);
    server.start();
    URI endpoint = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    imds =
        new HttpInstanceMetadata(
            new Endpoint(endpoint, "the test"),
            LoopbackGuard.of(true),
            new RetryPolicy(2, Duration.ofMillis(1), Duration.ofMillis(1)),
            new RecordingSleeper(),
            nanos::get);
  }

  @AfterEach
  void stop() {
    imds.close();
    server.stop(0);
  }

  private void token(HttpExchange x) throws IOException {
    puts.incrementAndGet();
    String ttl = x.getRequestHeaders().getFirst(HttpInstanceMetadata.TOKEN_TTL_HEADER);
    ttlAsked.set(ttl);
    x.getResponseHeaders().add(HttpInstanceMetadata.TOKEN_TTL_HEADER, ttl);
    answer(x, "PUT".equals(x.getRequestMethod()) ? 200 : 405, TOKEN);
  }

  private void metadata(HttpExchange x) throws IOException {
    gets.incrementAndGet();
    if (!TOKEN.equals(x.getRequestHeaders().getFirst("X-aws-ec2-metadata-token"))) {
      refused.incrementAndGet();
      answer(x, 401, "");
    } else if (x.getRequestURI().getPath().equals(HttpInstanceMetadata.PATH_TARGET_STATE)) {
      answer(x, 200, "InService");
    } else {
      answer(x, 404, "");
    }
  }

  private static void answer(HttpExchange x, int status, String body) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    x.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
    if (b.length > 0) {
      x.getResponseBody().write(b);
    }
    x.close();
  }

  @Test
  void manyPolls_oneTokenRequest() {
    for (int poll = 0; poll < 20; poll++) {
      assertThat(imds.targetLifecycleState()).isEqualTo(TargetLifecycleState.IN_SERVICE);
      assertThat(imds.spotInterruption()).isEmpty();
      assertThat(imds.rebalanceRecommendation()).isEmpty();
    }

    assertThat(gets).hasValue(60);
    assertThat(refused).hasValue(0);
    assertThat(puts).hasValue(1);
  }

  // A token is asked for with the longest lifetime IMDS allows, and asked for again a little
  // before that lifetime ends, not after IMDS has started refusing it.
  @Test
  void aTokenNearItsEnd_isRenewedBeforeIMDSRefusesIt() {
    assertThat(imds.targetLifecycleState()).isEqualTo(TargetLifecycleState.IN_SERVICE);
    assertThat(ttlAsked).hasValue("21600");

    nanos.addAndGet(Duration.ofHours(6).minusMinutes(5).minusSeconds(1).toNanos());
    assertThat(imds.targetLifecycleState()).isEqualTo(TargetLifecycleState.IN_SERVICE);
    assertThat(puts).as("still inside its lifetime less 5 minutes").hasValue(1);

    nanos.addAndGet(Duration.ofSeconds(2).toNanos());
    assertThat(imds.targetLifecycleState()).isEqualTo(TargetLifecycleState.IN_SERVICE);
    assertThat(puts).hasValue(2);
    assertThat(refused).hasValue(0);
  }
}
