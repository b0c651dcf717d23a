package dev.drainguard.queue;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.testing.CriblApiStub;
import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Cribl API probe against a loopback server answering as Cribl's API does, and the decision
 * each answer leads to under {@code --drained-when cribl}: empty (drained) or not (hold).
 */
class CriblApiProbeTest {

  @TempDir Path dir;
  CriblApiStub api;
  Path token;

  @BeforeEach
  void start() throws IOException {
    api = CriblApiStub.start();
    token = Files.writeString(dir.resolve("token"), "eyJhbGciOi.token.sig\n");
  }

  @AfterEach
  void stop() {
    api.close();
  }

  CriblApiProbe probe(int workerProcesses, Duration timeout) {
    return new CriblApiProbe(
        api.url(),
        Optional.of(token),
        workerProcesses,
        timeout,
        LoopbackGuard.of(true),
        Clock.systemUTC());
  }

  static boolean drained(ProbeReading r) {
    return DrainedWhen.parse("cribl").empty(List.of(r));
  }

  @Test
  void aQueueDrainingToZero_holdsThenDrains() {
    CriblApiProbe p = probe(2, Duration.ofSeconds(5));
    api.queue(0, "splunk_lb:idx", 52_428_800);
    api.queue(1, "splunk_lb:idx", 1_024);

    ProbeReading busy = p.read();
    assertThat(busy.unknown()).isEmpty();
    assertThat(busy.queues())
        .containsExactly(
            new QueueReading("w0:output:splunk_lb:idx", 52_428_800),
            new QueueReading("w1:output:splunk_lb:idx", 1_024));
    assertThat(drained(busy)).isFalse();

    api.queue(0, "splunk_lb:idx", 0);
    assertThat(drained(p.read())).isFalse();

    api.queue(1, "splunk_lb:idx", 0);
    ProbeReading empty = p.read();
    assertThat(empty.bytes()).isZero();
    assertThat(drained(empty)).isTrue();
  }

  @Test
  void theListShapeOfTheApiReference_readsTheSame() {
    api.useItemsEnvelope();
    api.queue(0, "splunk_lb:idx", 7);
    ProbeReading r = probe(1, Duration.ofSeconds(5)).read();
    assertThat(r.queues()).containsExactly(new QueueReading("w0:output:splunk_lb:idx", 7));
    api.queue(0, "splunk_lb:idx", 0);
    assertThat(drained(probe(1, Duration.ofSeconds(5)).read())).isTrue();
  }

  @Test
  void everyRequest_carriesTheTokenAndAsksForPqQueueSizeOfOneWorkerProcess() throws IOException {
    api.queue(0, "s3:archive", 0);
    probe(1, Duration.ofSeconds(5)).read();
    Files.writeString(token, "rotated\n");
    probe(1, Duration.ofSeconds(5)).read();

    List<CriblApiStub.Request> requests = api.requests();
    assertThat(requests).hasSize(2);
    assertThat(requests.get(0).authorization()).isEqualTo("Bearer eyJhbGciOi.token.sig");
    assertThat(requests.get(1).authorization()).isEqualTo("Bearer rotated");
    String query = URLDecoder.decode(requests.get(0).query(), StandardCharsets.UTF_8);
    assertThat(query).isEqualTo("wp=0&numBuckets=1&metricNameFilter=^pq\\.queue_size$");
  }

  @Test
  void aWorkerProcessMissingFromTheAnswer_isUnknown_soTheInstanceIsHeld() {
    api.queue(0, "splunk_lb:idx", 0);
    api.answer(1, new CriblApiStub.NoMetric());

    ProbeReading r = probe(2, Duration.ofSeconds(5)).read();

    assertThat(r.unknown()).contains("Cribl API worker process 1: no pq.queue_size in the answer");
    assertThat(drained(r)).isFalse();
  }

  @Test
  void unauthorized_isUnknown_namingTheTokenFile() {
    api.answer(
        0, new CriblApiStub.Status(401, "{\"status\":\"error\",\"message\":\"Unauthorized\"}"));

    ProbeReading r = probe(1, Duration.ofSeconds(5)).read();

    assertThat(r.unknown())
        .contains("Cribl API worker process 0: HTTP 401, the token in " + token + " was refused");
    assertThat(drained(r)).isFalse();
  }

  @Test
  void aServerError_isUnknown() {
    api.answer(0, new CriblApiStub.Status(503, "upstream unavailable"));

    ProbeReading r = probe(1, Duration.ofSeconds(5)).read();

    assertThat(r.unknown()).contains("Cribl API worker process 0: HTTP 503");
    assertThat(drained(r)).isFalse();
  }

  @Test
  void noAnswerWithinTheTimeout_isUnknown() {
    api.answer(
        0,
        new CriblApiStub.Slow(
            Duration.ofSeconds(3), new CriblApiStub.Queues(java.util.Map.of("s3:a", 0L))));

    ProbeReading r = probe(1, Duration.ofSeconds(1)).read();

    assertThat(r.unknown()).contains("Cribl API worker process 0: no answer within PT1S");
    assertThat(drained(r)).isFalse();
  }

  @Test
  void anUnreadableTokenFile_isUnknown() throws IOException {
    Files.delete(token);
    ProbeReading r = probe(1, Duration.ofSeconds(5)).read();
    assertThat(r.unknown().orElseThrow()).startsWith("Cribl API token file " + token);
    assertThat(api.requests()).isEmpty();
  }

  @Test
  void malformedAnswers_areUnknown() {
    for (String body : List.of("not json", "{}", "{\"results\":{\"metrics\":[]}}")) {
      api.answer(0, new CriblApiStub.Status(200, body));
      ProbeReading r = probe(1, Duration.ofSeconds(5)).read();
      assertThat(r.unknown()).as(body).isPresent();
    }
  }

  @Test
  void aNonLoopbackUrl_isRefusedInLoopbackOnlyMode_beforeAnyConnection() {
    CriblApiProbe p =
        new CriblApiProbe(
            URI.create("http://10.0.0.1:9000"),
            Optional.empty(),
            1,
            Duration.ofSeconds(1),
            LoopbackGuard.of(true),
            Clock.systemUTC());
    assertThat(p.read().unknown().orElseThrow()).contains("loopback-only mode refused");
  }
}
