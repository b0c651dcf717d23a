package dev.drainguard.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.sim.ActionEnd;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The installed agent, started by the installed launcher against the simulator on loopback, and the
 * package's removal step asked while it is in service, while it holds a termination, and after it
 * completed it: a holding agent is never stopped. Also measures its idle memory.
 */
class HoldingAgentIT {

  /** How long the agent idles in service before its memory is read. */
  static final Duration IDLE = Duration.ofSeconds(10);

  /** Guards against a launcher change that lets the heap grow: measured ~80 MiB. */
  static final long MAX_IDLE_RSS_KIB = 200 * 1024;

  @TempDir Path root;
  @TempDir Path work;
  InstalledAgent installed;
  Process agent;
  Path calls;

  @BeforeEach
  void startTheInstalledAgent() {
    installed = new InstalledAgent(root, work);
    agent = installed.start();
    calls = work.resolve("calls.log");
    Pkg.script(
        work.resolve("fakes/systemctl"),
        """
        echo "systemctl $*" >>"$FAKE_LOG"
        case "$1" in is-system-running) echo running ;; is-active) echo active ;; esac
        """);
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (installed != null) {
      installed.close();
    }
  }

  void awaitStatus(int code) {
    installed.awaitStatus(code);
  }

  /** The package's removal step, with systemctl faked (the agent here is not a service). */
  Pkg.Result remove() {
    return maintainer("remove");
  }

  Pkg.Result maintainer(String step) {
    return maintainer(step, Map.of());
  }

  Pkg.Result maintainer(String step, Map<String, String> extra) {
    Map<String, String> e = new java.util.HashMap<>(installed.env);
    e.putAll(extra);
    e.put("PATH", work.resolve("fakes") + ":/usr/bin:/bin");
    e.put("FAKE_LOG", calls.toString());
    return Pkg.run(e, installed.root.resolve("usr/libexec/drainguard/maintainer").toString(), step);
  }

  List<String> systemctlCalls() {
    List<String> c = Files.exists(calls) ? Pkg.read(calls).lines().toList() : List.of();
    Pkg.write(calls, "");
    return c;
  }

  @Test
  void removalStopsTheAgentInServiceRefusesWhileItHoldsAndGoesAheadOnceItCompleted()
      throws IOException, InterruptedException {
    awaitStatus(0);

    // idle in service: what an operator sees on a worker that is not being scaled in
    Thread.sleep(IDLE.toMillis());
    long rss = rssKib(agent.pid());
    System.out.printf(
        "drainguard run idle RSS after %ds in service: %d KiB (%.1f MiB)%n",
        IDLE.toSeconds(), rss, rss / 1024.0);
    assertThat(rss).isLessThan(MAX_IDLE_RSS_KIB);

    assertThat(remove().exit()).isZero();
    assertThat(systemctlCalls()).contains("systemctl stop drainguard.service");

    Path data = installed.queue.resolve("batch-1");
    Files.write(data, new byte[4096]);
    installed.sim.terminate(InstalledAgent.INSTANCE);
    awaitStatus(10);

    Pkg.Result refused = remove();
    assertThat(refused.exit()).as(refused.err()).isEqualTo(1);
    assertThat(refused.err()).contains("NOT removing drainguard", "holding");
    Pkg.Result upgrade = maintainer("upgrade");
    assertThat(upgrade.err()).contains("NOT restarting drainguard");
    // issue 20: a socket that does not answer (gone, jammed) while systemd says the service runs
    // is not "not running": removal and restart are refused all the same
    Map<String, String> noAnswer =
        Map.of("DRAINGUARD_CONTROL_SOCKET", work.resolve("gone/control.sock").toString());
    Pkg.Result blind = maintainer("remove", noAnswer);
    assertThat(blind.exit()).as(blind.err()).isEqualTo(1);
    assertThat(blind.err()).contains("NOT removing drainguard", "exited 3");
    assertThat(maintainer("upgrade", noAnswer).err()).contains("NOT restarting drainguard");
    assertThat(systemctlCalls()).noneMatch(c -> c.contains("stop") || c.contains("restart"));
    assertThat(agent.isAlive()).isTrue();

    Files.delete(data);
    awaitStatus(11);
    assertThat(installed.sim.actionEnd(InstalledAgent.INSTANCE))
        .get()
        .extracting(ActionEnd::result)
        .isEqualTo("CONTINUE");

    assertThat(remove().exit()).isZero();
    assertThat(systemctlCalls()).contains("systemctl stop drainguard.service");
  }

  static long rssKib(long pid) {
    for (String line : Pkg.read(Path.of("/proc/" + pid + "/status")).split("\n")) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("\\D", ""));
      }
    }
    throw new AssertionError("no VmRSS for pid " + pid);
  }
}
