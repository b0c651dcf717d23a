package dev.drainguard.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.drainguard.sim.ActionEnd;
import dev.drainguard.sim.ApiCall;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The installed launcher's agent killed with SIGKILL while it holds a termination, as the OOM
 * killer or {@code systemctl kill -s KILL} would: no shutdown hook runs, so nothing may be sent;
 * the action must stay open, and the agent started again (systemd's {@code Restart=}) must take it
 * up, heartbeat it and complete it once the queue drains.
 */
class SigkillLauncherIT {

  static final String HEARTBEAT = "RecordLifecycleActionHeartbeat";
  static final String COMPLETE = "CompleteLifecycleAction";

  /** 128 + SIGKILL: how a killed process's exit status reads. */
  static final int KILLED = 128 + 9;

  @TempDir Path root;
  @TempDir Path work;
  InstalledAgent installed;

  @AfterEach
  void stop() throws InterruptedException {
    if (installed != null) {
      installed.close();
    }
  }

  long acceptedHeartbeats() {
    return installed.sim.calls(HEARTBEAT).stream().filter(ApiCall::succeeded).count();
  }

  @Test
  void sigkillWhileHolding_leavesTheActionOpen_andTheRestartedLauncherCompletesItAfterTheDrain()
      throws IOException, InterruptedException {
    installed = new InstalledAgent(root, work);
    Path data = Files.write(installed.queue.resolve("batch-1"), new byte[4096]);
    Process first = installed.start();
    installed.awaitStatus(0);
    installed.sim.terminate(InstalledAgent.INSTANCE);
    installed.awaitStatus(10);
    await().atMost(InstalledAgent.WAIT).until(() -> acceptedHeartbeats() > 0);

    // The launcher execs the JVM: the process it started is the agent itself, not a shell
    // waiting on it, so the kill cannot miss it (and no agent is left running beside it).
    long pid = first.pid();
    assertThat(Path.of("/proc/" + pid + "/exe").toRealPath().toString()).endsWith("/bin/java");
    assertThat(cmdline(pid)).contains("dev.drainguard.cli.Main", "run");
    assertThat(agentsOf(installed)).containsExactly(pid);

    first.destroyForcibly(); // SIGKILL
    assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(first.exitValue()).isEqualTo(KILLED);
    assertThat(Files.exists(Path.of("/proc/" + pid))).isFalse();
    assertThat(agentsOf(installed)).isEmpty();
    assertThat(installed.log()).doesNotContain("agent stopped");

    // Nothing was sent for it: no CONTINUE, no ABANDON, and the action is still open.
    assertThat(installed.sim.calls(COMPLETE)).isEmpty();
    assertThat(installed.sim.actionEnd(InstalledAgent.INSTANCE)).isEmpty();
    assertThat(installed.sim.lifecycleState(InstalledAgent.INSTANCE)).isEqualTo("Terminating:Wait");
    long beforeRestart = acceptedHeartbeats();

    // Started again (its stale control socket is still there): it holds the action on.
    Process second = installed.start();
    installed.awaitStatus(10);
    await().atMost(InstalledAgent.WAIT).until(() -> acceptedHeartbeats() > beforeRestart);
    assertThat(agentsOf(installed)).containsExactly(second.pid());
    assertThat(installed.sim.actionEnd(InstalledAgent.INSTANCE)).isEmpty();

    Files.delete(data);
    installed.awaitStatus(11);
    assertThat(installed.sim.actionEnd(InstalledAgent.INSTANCE))
        .as(installed.log())
        .hasValueSatisfying(
            e -> {
              assertThat(e.kind()).isEqualTo(ActionEnd.Kind.COMPLETED);
              assertThat(e.result()).isEqualTo("CONTINUE");
            });
    assertThat(installed.sim.calls(COMPLETE)).hasSize(1);
    assertThat(second.isAlive()).isTrue();
  }

  /** The command line of process {@code pid}, its arguments joined by spaces. */
  static String cmdline(long pid) throws IOException {
    byte[] raw = Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline"));
    return new String(raw, StandardCharsets.UTF_8).replace('\0', ' ');
  }

  /** Every live process running this fixture's agent: a JVM whose class path is its root's. */
  static List<Long> agentsOf(InstalledAgent installed) throws IOException {
    String lib = installed.root.toRealPath().resolve("usr/share/drainguard/lib").toString();
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      return procs
          .filter(p -> p.getFileName().toString().matches("\\d+"))
          .filter(
              p -> {
                try {
                  String c = cmdline(Long.parseLong(p.getFileName().toString()));
                  return c.contains(lib) && c.contains("dev.drainguard.cli.Main run");
                } catch (IOException | RuntimeException e) {
                  return false; // ended while listed
                }
              })
          .map(p -> Long.parseLong(p.getFileName().toString()))
          .toList();
    }
  }
}
