package dev.drainguard.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.drainguard.sim.ActionEnd;
import dev.drainguard.sim.Simulator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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

  static final String GROUP = "workers";
  static final String INSTANCE = "i-0123456789abcdef0";
  static final String HOOK = "hold-queues";

  /** Start-up, a heartbeat round and the quiet period all fit well inside this. */
  static final Duration WAIT = Duration.ofSeconds(60);

  /** How long the agent idles in service before its memory is read. */
  static final Duration IDLE = Duration.ofSeconds(10);

  /** Guards against a launcher change that lets the heap grow: measured ~80 MiB. */
  static final long MAX_IDLE_RSS_KIB = 200 * 1024;

  @TempDir Path root;
  @TempDir Path work;
  Simulator sim;
  Process agent;
  Map<String, String> env;
  Path calls;

  @BeforeEach
  void startTheInstalledAgent() throws IOException {
    Pkg.extractDeb(root);
    sim = Simulator.start(Clock.systemUTC());
    sim.addGroup(GROUP);
    sim.addInstance(GROUP, INSTANCE, "us-east-1", true);
    sim.addTerminationHook(GROUP, HOOK, Duration.ofSeconds(30), "ABANDON");
    Path queue = Files.createDirectories(work.resolve("queues/0/out-s3"));
    Path config =
        Pkg.write(
            work.resolve("drainguard.conf"),
            String.join(
                "\n",
                "loopback-only = true",
                "imds-endpoint = " + sim.imdsEndpoint(),
                "autoscaling-endpoint = " + sim.autoScalingEndpoint(),
                "region = us-east-1",
                "queue-root = " + queue.getParent().getParent(),
                "control-socket = " + work.resolve("run/control.sock"),
                "quiet-period = 1s",
                "heartbeat-interval = 2s",
                "imds-poll-interval = 1s",
                "imds-startup-timeout = 20s",
                "action-grace = 1m",
                ""));
    env = Pkg.baseEnv();
    // status, and the maintainer's status calls, read the socket from this config
    env.put("DRAINGUARD_CONFIG", config.toString());
    env.put("AWS_ACCESS_KEY_ID", "test");
    env.put("AWS_SECRET_ACCESS_KEY", "test");
    env.put("AWS_EC2_METADATA_DISABLED", "true");
    ProcessBuilder pb = new ProcessBuilder(root.resolve("usr/bin/drainguard").toString(), "run");
    pb.environment().clear();
    pb.environment().putAll(env);
    agent = pb.redirectErrorStream(true).redirectOutput(work.resolve("agent.log").toFile()).start();
    calls = work.resolve("calls.log");
    Pkg.script(
        work.resolve("fakes/systemctl"),
        """
        echo "systemctl $*" >>"$FAKE_LOG"
        case "$1" in is-system-running) echo running ;; esac
        """);
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (agent != null) {
      agent.destroy();
      agent.waitFor(30, TimeUnit.SECONDS);
      agent.destroyForcibly();
    }
    if (sim != null) {
      sim.close();
    }
  }

  int status() {
    return Pkg.run(env, root.resolve("usr/bin/drainguard").toString(), "status").exit();
  }

  void awaitStatus(int code) {
    await(String.format("drainguard status exits %d; agent log:%n%s", code, log()))
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(500))
        .until(() -> agent.isAlive() && status() == code);
  }

  String log() {
    Path f = work.resolve("agent.log");
    return Files.exists(f) ? Pkg.read(f) : "";
  }

  /** The package's removal step, with systemctl faked (the agent here is not a service). */
  Pkg.Result remove() {
    return maintainer("remove");
  }

  Pkg.Result maintainer(String step) {
    Map<String, String> e = new java.util.HashMap<>(env);
    e.put("PATH", work.resolve("fakes") + ":/usr/bin:/bin");
    e.put("FAKE_LOG", calls.toString());
    return Pkg.run(e, root.resolve("usr/libexec/drainguard/maintainer").toString(), step);
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

    Path data = work.resolve("queues/0/out-s3/batch-1");
    Files.write(data, new byte[4096]);
    sim.terminate(INSTANCE);
    awaitStatus(10);

    Pkg.Result refused = remove();
    assertThat(refused.exit()).as(refused.err()).isEqualTo(1);
    assertThat(refused.err()).contains("NOT removing drainguard", "holding");
    Pkg.Result upgrade = maintainer("upgrade");
    assertThat(upgrade.err()).contains("NOT restarting drainguard");
    assertThat(systemctlCalls()).noneMatch(c -> c.contains("stop") || c.contains("restart"));
    assertThat(agent.isAlive()).isTrue();

    Files.delete(data);
    awaitStatus(11);
    assertThat(sim.actionEnd(INSTANCE)).get().extracting(ActionEnd::result).isEqualTo("CONTINUE");

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
