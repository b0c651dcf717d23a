package dev.drainguard.drain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.proc.Isolation;
import dev.drainguard.proc.ShellLauncher;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;
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

  /**
   * Issue 13, point 9, for operator commands: a background child that keeps the output open neither
   * holds up the result (the output thread used to wait for it) nor outlives the command.
   */
  @Test
  void aBackgroundChild_isKilledWhenTheCommandEnds_andDoesNotHoldUpItsResult() throws IOException {
    Path pidFile = dir.resolve("child.pid");
    CommandRunner.CommandResult r =
        runner
            .start(
                "t",
                "sleep 60 & echo $! > " + pidFile + "; echo flushed",
                Map.of(),
                Duration.ofSeconds(30))
            .join();
    assertThat(r.ok()).isTrue();
    long child = Long.parseLong(Files.readString(pidFile).strip());
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> ProcessHandle.of(child).map(p -> !p.isAlive()).orElse(true));
  }

  /**
   * Issue 20, point 9: on-termination and before-complete commands inherited the agent's whole
   * environment. With an agent environment holding AWS keys, the command sees PATH, LANG and the
   * DRAINGUARD_* variables it is given (and PWD, which the shell sets).
   */
  @Test
  void aCommand_seesOnlyPathLangAndItsDrainguardVariables() throws IOException {
    Map<String, String> agentEnv =
        Map.of(
            "PATH", "/usr/bin:/bin",
            "LANG", "C.UTF-8",
            "AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2VjEXAMPLE",
            "DRAINGUARD_CRIBL_TOKEN_FILE", "/etc/drainguard/cribl.token",
            "JAVA_TOOL_OPTIONS", "-Dx=y");
    ShellLauncher launcher = ShellLauncher.detect(agentEnv, Isolation.Capabilities.DROP);
    Path out = dir.resolve("env");
    CommandRunner.CommandResult r =
        new ShellCommandRunner(executor, Clock.systemUTC(), launcher)
            .start(
                "before-complete",
                "env > " + out,
                Map.of("DRAINGUARD_PHASE", "DRAINED", "DRAINGUARD_QUEUED_BYTES", "0"),
                Duration.ofSeconds(10))
            .join();
    assertThat(r.ok()).isTrue();
    Set<String> names =
        Files.readAllLines(out).stream()
            .map(l -> l.substring(0, l.indexOf('=')))
            .filter(n -> !n.equals("PWD"))
            .collect(Collectors.toSet());
    assertThat(names)
        .containsExactlyInAnyOrder("PATH", "LANG", "DRAINGUARD_PHASE", "DRAINGUARD_QUEUED_BYTES");
  }

  /** Many commands leave no thread and no descriptor behind. */
  @Test
  void twoHundredCommands_leakNoThreadNorDescriptor() throws IOException {
    runner.start("warm", "true", Map.of(), Duration.ofSeconds(10)).join();
    long threads = drainguardThreads();
    long fds = openDescriptors();
    for (int i = 0; i < 200; i++) {
      assertThat(
              runner
                  .start("t", "sleep 60 & echo " + i, Map.of(), Duration.ofSeconds(10))
                  .join()
                  .ok())
          .isTrue();
    }
    assertThat(drainguardThreads()).isLessThanOrEqualTo(threads);
    assertThat(openDescriptors()).isLessThanOrEqualTo(fds + 8);
  }

  static long drainguardThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith("drainguard"))
        .count();
  }

  static long openDescriptors() throws IOException {
    try (var fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    }
  }
}
