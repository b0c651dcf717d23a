package dev.drainguard.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.testing.CriblApiStub;
import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

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
    token = tokenFile("eyJhbGciOi.token.sig\n");
  }

  /** A token file as the README says to make it: mode 0600, the agent's own. */
  Path tokenFile(String content) throws IOException {
    Path t = dir.resolve("token");
    Files.writeString(t, content);
    Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rw-------"));
    return t;
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

  /** {@code cribl-worker-processes = auto} on a host with {@code cpus} CPUs. */
  CriblApiProbe auto(int cpus) {
    return new CriblApiProbe(
        api.url(),
        Optional.of(token),
        CriblApiProbe.AUTO,
        Duration.ofSeconds(5),
        LoopbackGuard.of(true),
        Clock.systemUTC(),
        () -> cpus,
        CriblToken.agentUid());
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

    List<CriblApiStub.Request> requests = api.requests(0);
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

    assertThat(r.unknown())
        .contains(
            "Cribl API worker process 1: no pq.queue_size in the answer (2 worker processes are"
                + " expected, cribl-worker-processes = 2)");
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

  /**
   * Issue 13, reproduction 2: an API that sends its headers and half its body, then stalls, blocked
   * read() for ever (probe-timeout bounded only the headers). The reading is unknown once the
   * timeout has passed; the test's own bound fails it on the code before the fix.
   */
  @Test
  void anAnswerThatStallsMidBody_isUnknownOnceTheTimeoutHasPassed() {
    api.answer(
        0,
        new CriblApiStub.StallMidBody(
            "{\"results\":{\"metrics\":[{\"_time\":[{\"val\":1}],\"pq.queue_size\":"
                + "[{\"model\":{\"output\":\"s3:a\"},\"val\":0}]}]}}"));
    CriblApiProbe p = probe(1, Duration.ofSeconds(1));

    ProbeReading r = assertTimeoutPreemptively(Duration.ofSeconds(20), p::read);

    assertThat(r.unknown()).contains("Cribl API worker process 0: no answer within PT1S");
    assertThat(drained(r)).isFalse();
  }

  /** A clock that jumps an hour once the API has been asked tells the read's start from its end. */
  @Test
  void theReading_carriesTheInstantItsReadStarted() {
    api.queue(0, "s3:a", 0);
    java.time.Instant start = java.time.Instant.parse("2026-12-02T00:00:00Z");
    Clock clock =
        new Clock() {
          @Override
          public java.time.Instant instant() {
            return api.requests().isEmpty() ? start : start.plus(Duration.ofHours(1));
          }

          @Override
          public java.time.ZoneId getZone() {
            return java.time.ZoneOffset.UTC;
          }

          @Override
          public Clock withZone(java.time.ZoneId zone) {
            return this;
          }
        };
    ProbeReading r =
        new CriblApiProbe(
                api.url(),
                Optional.of(token),
                1,
                Duration.ofHours(2),
                LoopbackGuard.of(true),
                clock,
                () -> 2,
                CriblToken.agentUid())
            .read();
    assertThat(r.unknown()).isEmpty();
    assertThat(r.readAt()).isEqualTo(start);
  }

  /**
   * Issue 17, point 2: with Cribl's defaults (count -2, minimum 2) on 6 CPUs the node runs 4 worker
   * processes; the probe read only wp=0 unless told, and the queues of the other three could be
   * completed away.
   */
  @Test
  void auto_readsTheCountFromCriblsSettings_andAsksEveryProcess() {
    api.settingsAnswer(new CriblApiStub.Status(200, CriblApiStub.settings(-2, 2)));
    for (int wp = 0; wp < 4; wp++) {
      api.queue(wp, "splunk_lb:idx", 0);
    }
    api.queue(3, "splunk_lb:idx", 4096);
    CriblApiProbe p = auto(6);

    ProbeReading r = p.read();

    assertThat(r.unknown()).isEmpty();
    assertThat(r.queues()).hasSize(4).contains(new QueueReading("w3:output:splunk_lb:idx", 4096));
    assertThat(drained(r)).isFalse();
    assertThat(p.describe())
        .endsWith(
            "for 4 worker processes (auto: Cribl settings workers.count -2, minimum 2 on 6 CPUs)");
    assertThat(api.requests().get(0).path()).isEqualTo("/api/v1/system/settings/conf");
  }

  @Test
  void auto_whenTheSettingsCannotBeRead_usesCriblsDefaults_andSaysSo() {
    api.settingsAnswer(new CriblApiStub.Status(403, "{\"status\":\"error\"}"));
    for (int wp = 0; wp < 2; wp++) {
      api.queue(wp, "s3:archive", 0);
    }
    CriblApiProbe p = auto(4);

    ProbeReading r = p.read();

    assertThat(r.unknown()).isEmpty();
    assertThat(r.queues()).hasSize(2);
    assertThat(p.describe())
        .endsWith(
            "for 2 worker processes (auto: Cribl's defaults (count -2, minimum 2) on 4 CPUs; its"
                + " settings answered HTTP 403)");
  }

  @Test
  void beforeItsFirstReading_autoSaysSo() {
    assertThat(auto(4).describe()).contains("worker processes: auto").endsWith("not read yet");
    assertThat(probe(3, Duration.ofSeconds(1)).describe())
        .endsWith("for 3 worker processes (cribl-worker-processes = 3)");
  }

  /** A count too low is visible: the process just past it answers with queues of its own. */
  @Test
  void aProcessBeyondTheCount_answeringWithQueues_isUnknown() {
    api.queue(0, "splunk_lb:idx", 0);
    api.queue(1, "splunk_lb:idx", 52_428_800);

    ProbeReading r = probe(1, Duration.ofSeconds(5)).read();

    assertThat(r.unknown().orElseThrow())
        .startsWith(
            "Cribl API worker process 1 answers with pq.queue_size (1 queues) although only")
        .contains("1 worker process is expected, cribl-worker-processes = 1")
        .endsWith("set cribl-worker-processes to how many run");
    assertThat(drained(r)).isFalse();
  }

  /** A count too high is visible too: a process that does not run reports no pq.queue_size. */
  @Test
  void fewerProcessesThanExpected_isUnknown_namingWhereTheCountCameFrom() {
    api.settingsAnswer(new CriblApiStub.Status(200, CriblApiStub.settings(3, 2)));
    api.queue(0, "splunk_lb:idx", 0);
    api.queue(1, "splunk_lb:idx", 0);
    api.answer(2, new CriblApiStub.NoMetric());

    ProbeReading r = auto(8).read();

    assertThat(r.unknown().orElseThrow())
        .isEqualTo(
            "Cribl API worker process 2: no pq.queue_size in the answer (3 worker processes are"
                + " expected, auto: Cribl settings workers.count 3, minimum 2 on 8 CPUs)");
  }

  @ParameterizedTest(name = "count {0}, minimum {1}, {2} CPUs: {3}")
  @CsvSource({
    "-2, 2, 6, 4", // the defaults
    "-2, 2, 2, 2", // at least the minimum
    "-2, 2, 1, 2", // the minimum wins over the CPUs
    "0, 0, 8, 6", // 0 means the default, for both
    "4, 2, 12, 4", // a positive count is the count
    "16, 2, 12, 12", // but at most the CPUs
    "-20, 1, 12, 1", // an offset too large leaves the minimum
    "-1, 2, 48, 47"
  })
  void criblsRule(int count, int minimum, int cpus, int runs) {
    assertThat(CriblWorkers.criblWouldRun(count, minimum, cpus)).isEqualTo(runs);
  }

  @Test
  void theHostsCpuList_isCounted() {
    assertThat(CriblWorkers.parseCpuList("0-3,6,8-9\n")).isEqualTo(7);
    assertThat(CriblWorkers.parseCpuList("0\n")).isEqualTo(1);
    assertThat(CriblWorkers.hostCpus()).isPositive();
  }

  /**
   * Issue 20, point 8: a second line in the token file made the header invalid, and the exception's
   * message, which quoted the whole header, reached the log, status and JSON. Only the first line
   * is the token.
   */
  @Test
  void onlyTheTokensFirstLine_isSent() throws IOException {
    tokenFile("SECRETtoken.abc\nsecond-line\n");
    api.queue(0, "s3:a", 0);

    ProbeReading r = probe(1, Duration.ofSeconds(5)).read();

    assertThat(r.unknown()).isEmpty();
    assertThat(api.requests(0).get(0).authorization()).isEqualTo("Bearer SECRETtoken.abc");
  }

  @ParameterizedTest
  @ValueSource(strings = {"SECRET token\n", "SECRET\u0001token\n", "\nSECRETtoken\n"})
  void aTokenNoHeaderCanCarry_isUnknown_andNeverQuoted(String content) throws IOException {
    tokenFile(content);
    api.queue(0, "s3:a", 0);

    ProbeReading r = probe(1, Duration.ofSeconds(5)).read();

    assertThat(r.unknown().orElseThrow())
        .startsWith("Cribl API token file " + token)
        .doesNotContain("SECRET");
    assertThat(api.requests()).isEmpty();
  }

  @Test
  void aTokenFileOthersCanRead_isUnknown_beforeAnyRequest() throws IOException {
    Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-r--r--"));
    api.queue(0, "s3:a", 0);

    ProbeReading r = probe(1, Duration.ofSeconds(5)).read();

    assertThat(r.unknown().orElseThrow())
        .isEqualTo(
            "Cribl API token file "
                + token
                + " can be read or written by every user: chmod o-rw (0600, or 0640 with group"
                + " drainguard)")
        .doesNotContain("eyJhbGciOi");
    assertThat(api.requests()).isEmpty();
  }

  @Test
  void aTokenFileOfAnotherUser_isUnknown() throws IOException {
    assumeThat(CriblToken.agentUid()).as("chown needs root").isZero();
    Files.setAttribute(token, "unix:uid", 65534);
    api.queue(0, "s3:a", 0);

    ProbeReading r = probe(1, Duration.ofSeconds(5)).read();

    assertThat(r.unknown().orElseThrow())
        .isEqualTo(
            "Cribl API token file "
                + token
                + " is owned by uid 65534: it must be the agent's user's (uid 0) or root's");
  }
}
