package dev.drainguard.drain;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.drainguard.imds.HttpInstanceMetadata;
import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.net.RetryPolicy;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Adversary (review of adc2869): a loopback IMDS that answers every path the poller read before the
 * change at once, but never answers {@code instance-life-cycle}. The new read sits in the same
 * poll, ahead of the spot interruption read, and is asked again at every poll while unanswered:
 * with the agent's own retry policy (4 tries, each cut at the 2 s read timeout, or at the 3 s
 * exchange limit for an answer that trickles, and 1.75 s of pauses) every poll spends ~10-14 s on
 * it before it reads {@code spot/instance-action}. A spot instance's interruption notice (2
 * minutes' warning) is then reported ~10 s late at every poll, and since the polls then run back to
 * back, the target lifecycle state (how termination is noticed) is read every ~10 s instead of
 * every 5 s. Before the change neither read waited on anything but its own path.
 */
class AdversaryLifeCycleHangTest {

  HttpServer server;

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext("/", this::handle);
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      String body;
      int status = 200;
      switch (path) {
        case "/latest/api/token" -> body = "token-1";
        case "/latest/meta-data/autoscaling/target-lifecycle-state" -> body = "InService";
        case "/latest/meta-data/spot/instance-action" ->
            body = "{\"action\":\"terminate\",\"time\":\"2026-01-01T00:02:00Z\"}";
        case "/latest/meta-data/instance-life-cycle" -> {
          // hangs: never answers within the client's limits
          try {
            Thread.sleep(8_000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return;
        }
        default -> {
          status = 404;
          body = "Not Found";
        }
      }
      byte[] b = body.getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(status, b.length);
      ex.getResponseBody().write(b);
    }
  }

  @Test
  void aHungInstanceLifeCycleRead_delaysTheSpotInterruptionNotice() {
    URI endpoint = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    HttpInstanceMetadata imds =
        new HttpInstanceMetadata(
            endpoint,
            LoopbackGuard.of(true),
            RetryPolicy.DEFAULT, // as Agent.start builds it
            d -> {
              try {
                Thread.sleep(d.toMillis());
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    ImdsPoller poller =
        new ImdsPoller(
            imds,
            Duration.ofSeconds(5),
            Clock.systemUTC(),
            Optional.empty(),
            () -> true,
            () -> true,
            e -> {});

    long t0 = System.nanoTime();
    Event.ImdsPolled p = poller.poll();
    Duration took = Duration.ofNanos(System.nanoTime() - t0);

    assertThat(p.interruption()).as("the notice is read").isPresent();
    // The notice was there to read in milliseconds; the poll interval is 5 s. Before adc2869 this
    // poll took a few ms. It takes ~10 s now, and would again at every poll.
    assertThat(took)
        .as("time from poll start to the spot interruption being reported")
        .isLessThan(Duration.ofSeconds(5));
  }
}
