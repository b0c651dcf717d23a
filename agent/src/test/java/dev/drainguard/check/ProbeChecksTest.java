package dev.drainguard.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.queue.CriblApiProbe;
import dev.drainguard.queue.DrainedWhen;
import dev.drainguard.queue.Probe;
import dev.drainguard.testing.CriblApiStub;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The probe lines of {@code drainguard check}, with a real Cribl probe against a loopback API. */
class ProbeChecksTest {

  @TempDir Path dir;
  CriblApiStub api;
  Path token;

  @BeforeEach
  void start() throws IOException {
    api = CriblApiStub.start();
    token = Files.writeString(dir.resolve("cribl.token"), "t0ken\n");
    Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-r-----"));
  }

  @AfterEach
  void stop() {
    api.close();
  }

  List<Check> check(int workerProcesses) {
    Probe cribl =
        new CriblApiProbe(
            api.url(),
            Optional.of(token),
            workerProcesses,
            Duration.ofSeconds(5),
            LoopbackGuard.of(true),
            Clock.systemUTC());
    List<Check> out = new ArrayList<>();
    new ProbeChecks(List.of(cribl), DrainedWhen.parse("cribl")).run(out);
    return out;
  }

  /** Issue 17, point 2: check shows how many worker processes are read, and why that many. */
  @Test
  void theCriblLine_showsTheWorkerProcessCountInUse_andWhereItCameFrom() {
    api.settingsAnswer(new CriblApiStub.Status(200, CriblApiStub.settings(2, 2)));
    api.queue(0, "splunk_lb:idx", 0);
    api.queue(1, "splunk_lb:idx", 2048);

    Check c = check(CriblApiProbe.AUTO).get(0);

    assertThat(c.status()).isEqualTo(Check.Status.PASS);
    assertThat(c.detail())
        .contains("for 2 worker processes (auto: Cribl settings workers.count 2, minimum 2 on ")
        .endsWith(
            ": 2048 bytes queued in 2 queues (w0:output:splunk_lb:idx 0,"
                + " w1:output:splunk_lb:idx 2048), NOT empty");
  }

  /** Issue 20, point 8: a token file every user can read was a PASS. */
  @Test
  void aTokenFileOthersCanRead_fails_withTheFix() throws IOException {
    Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-rw-rw-"));
    api.queue(0, "splunk_lb:idx", 0);

    Check c = check(1).get(0);

    assertThat(c.status()).isEqualTo(Check.Status.FAIL);
    assertThat(c.detail())
        .endsWith(
            "can be read or written by every user: chmod o-rw (0600, or 0640"
                + " with group drainguard)");
    assertThat(c.detail()).doesNotContain("t0ken");
    assertThat(c.fix().orElseThrow())
        .contains("owned by the agent's user or root, mode 0600 or 0640");
  }

  @Test
  void aCountTooLow_fails() {
    api.queue(0, "splunk_lb:idx", 0);
    api.queue(1, "splunk_lb:idx", 10);

    Check c = check(1).get(0);

    assertThat(c.status()).isEqualTo(Check.Status.FAIL);
    assertThat(c.detail()).contains("worker process 1 answers with pq.queue_size");
  }
}
