package dev.drainguard.drain;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real /bin/sh processes. */
class ShellCommandRunnerTest {

  final ExecutorService executor = Executors.newCachedThreadPool();
  final ShellCommandRunner runner = new ShellCommandRunner(executor, Clock.systemUTC());

  @TempDir Path dir;

  @AfterEach
  void stop() {
    executor.shutdownNow();
  }

  @Test
  void aCommand_seesItsEnvironmentAndReportsExitZero() throws IOException {
    Path out = dir.resolve("out");
    CommandRunner.CommandResult r =
        runner
            .start(
                "t",
                "echo \"$DRAINGUARD_PHASE $DRAINGUARD_QUEUED_BYTES\" > " + out,
                Map.of("DRAINGUARD_PHASE", "DRAINED", "DRAINGUARD_QUEUED_BYTES", "0"),
                Duration.ofSeconds(10))
            .join();
    assertThat(r.ok()).isTrue();
    assertThat(Files.readString(out)).isEqualTo("DRAINED 0\n");
  }

  @Test
  void aFailingCommand_reportsItsExitCode() {
    CommandRunner.CommandResult r =
        runner.start("t", "echo oops; exit 7", Map.of(), Duration.ofSeconds(10)).join();
    assertThat(r.ok()).isFalse();
    assertThat(r.exitCode()).isEqualTo(7);
    assertThat(r.timedOut()).isFalse();
  }

  @Test
  void aCommandPastItsTimeout_isKilledWithItsChildren() throws IOException {
    Path pidFile = dir.resolve("child.pid");
    CommandRunner.CommandResult r =
        runner
            .start(
                "t", "sleep 60 & echo $! > " + pidFile + "; wait", Map.of(), Duration.ofSeconds(1))
            .join();
    assertThat(r.timedOut()).isTrue();
    assertThat(r.ok()).isFalse();
    long child = Long.parseLong(Files.readString(pidFile).strip());
    // guards against a killed shell leaving its children running past the timeout
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> ProcessHandle.of(child).map(p -> !p.isAlive()).orElse(true));
  }
}
