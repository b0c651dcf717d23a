package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drainguard.cli.SigkillFaultTest.AgentProcess;
import dev.drainguard.config.Setting;
import dev.drainguard.drain.DrainStatus;
import dev.drainguard.drain.Phase;
import dev.drainguard.queue.RootStatus;
import dev.drainguard.sim.Simulator;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The queue root misbehaving under a holding agent: deleted and recreated, unreadable, more
 * directories than inotify may watch, on a full disk. A root that cannot be judged is never empty:
 * the action stays open and status names the root and why. A root that cannot be watched is polled,
 * and status says so.
 *
 * <p>The inotify and disk-full tests run the agent in a user (and mount) namespace of its own
 * ({@code unshare -Ur}), where a tiny inotify watch limit and a tiny tmpfs change nothing for the
 * rest of the machine; they are skipped, saying why, where namespaces are not allowed.
 */
class QueueRootFaultTest {

  static final String GROUP = "g";
  static final String INSTANCE = "i-1";
  static final Duration HT = Duration.ofSeconds(60);
  static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;
  ScaleInHarness h;

  @AfterEach
  void tearDown() {
    if (h != null) {
      h.close();
    }
  }

  private static boolean isRoot() {
    try {
      Process p = new ProcessBuilder("id", "-u").start();
      return new String(p.getInputStream().readAllBytes()).strip().equals("0");
    } catch (IOException e) {
      return false;
    }
  }

  /** Whether {@code command} runs and exits 0 here (namespaces may be forbidden). */
  private static boolean works(String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static RootStatus onlyRoot(DrainStatus s) {
    return s.queues().roots().get(0);
  }

  @Test
  void rootDeletedWhileHolding_blocksCompletion_untilRecreated() throws IOException {
    Path root = Files.createDirectories(dir.resolve("queues"));
    Files.write(Files.createDirectories(root.resolve("0/out")).resolve("1.pq"), new byte[100]);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.startAgent();
    h.scaleInUntilHolding();

    try (Stream<Path> all = Files.walk(root)) {
      all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
    h.awaitStatus(s -> onlyRoot(s).error().isPresent());
    h.advance(Duration.ofMinutes(3));

    DrainStatus s = h.status();
    assertThat(s.phase()).isEqualTo(Phase.HOLDING);
    assertThat(onlyRoot(s).error())
        .hasValueSatisfying(e -> assertThat(e).contains("does not exist"));
    assertThat(h.calls("CompleteLifecycleAction")).isEmpty();
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE)).isEmpty();

    Files.createDirectories(root);
    h.awaitStatus(st -> st.queues().empty());
    h.advance(Duration.ofSeconds(11), Duration.ofSeconds(1));
    h.awaitStatus(st -> st.phase() == Phase.COMPLETED);
  }

  @Test
  void rootUnreadable_blocksCompletion_untilReadable() throws IOException {
    Assumptions.assumeFalse(
        isRoot(),
        "running as root, whom chmod 000 does not stop; rootUnreadable_toAnAgentThatIsNotRoot"
            + " covers this with a real agent process run as nobody");
    Path root = Files.createDirectories(dir.resolve("queues"));
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.set(Setting.RECONCILE_INTERVAL, "1s");
    h.startAgent();
    h.scaleInUntilHolding();

    Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("---------"));
    try {
      h.awaitStatus(s -> onlyRoot(s).error().isPresent());
      h.advance(Duration.ofMinutes(1));
      assertThat(onlyRoot(h.status()).error())
          .hasValueSatisfying(e -> assertThat(e).contains("not readable"));
      assertThat(h.calls("CompleteLifecycleAction")).isEmpty();
    } finally {
      Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    h.awaitStatus(st -> st.queues().empty());
    h.advance(Duration.ofSeconds(11), Duration.ofSeconds(1));
    h.awaitStatus(st -> st.phase() == Phase.COMPLETED);
  }

  @Test
  void rootUnreadable_toAnAgentThatIsNotRoot() throws IOException, InterruptedException {
    Assumptions.assumeTrue(
        isRoot() && works("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "true"),
        "needs root to run the agent as nobody (setpriv); rootUnreadable_blocksCompletion covers"
            + " this in-process when not root");
    // nobody cannot read root's Maven repository: the agent runs from a world-readable copy.
    Path jars = Files.createDirectories(dir.resolve("jars"));
    List<String> cp = new ArrayList<>();
    int n = 0;
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      Path from = Path.of(entry);
      Path to = jars.resolve((n++) + "-" + from.getFileName());
      if (Files.isDirectory(from)) {
        copyTree(from, to);
      } else {
        Files.copy(from, to);
      }
      cp.add(to.toString());
    }
    Path queues = Files.createDirectories(dir.resolve("queues"));
    Path file = Files.write(queues.resolve("1.pq"), new byte[100]);
    Path run = Files.createDirectories(dir.resolve("run"));
    openUp(dir, "rwxr-xr-x");
    // the socket's directory belongs to the agent's user, as systemd's RuntimeDirectory= does:
    // clients believe only an agent run by the owner of that directory (or by root)
    Files.setOwner(
        run, run.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
    openUp(run, "rwxr-x---");
    try (var all = Files.walk(jars)) {
      all.forEach(p -> openUp(p, Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
    }
    openUp(queues, "rwxr-xr-x");
    Path socket = run.resolve("control.sock");
    try (Simulator sim = startSim()) {
      List<String> args =
          SigkillFaultTest.runArgs(sim, queues, socket, "--reconcile-interval", "1s");
      try (AgentProcess agent =
          AgentProcess.start(
              List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"),
              String.join(File.pathSeparator, cp),
              args,
              dir.resolve("agent.log"))) {
        holding(sim, agent);

        openUp(queues, "---------");
        await().atMost(WAIT).until(() -> rootError(socket).contains("not readable"));
        Files.delete(file); // drained, but the agent cannot see it: not empty to it
        Thread.sleep(3000);
        assertThat(sim.calls("CompleteLifecycleAction")).as(agent.output()).isEmpty();
        assertThat(sim.actionEnd(INSTANCE)).isEmpty();

        openUp(queues, "rwxr-xr-x");
        await().atMost(WAIT).until(() -> sim.actionEnd(INSTANCE).isPresent());
        assertThat(sim.actionEnd(INSTANCE))
            .hasValueSatisfying(e -> assertThat(e.result()).isEqualTo("CONTINUE"));
      }
    }
  }

  @Test
  void inotifyWatchLimitReached_theRootIsPolled_theDrainIsSeen_andItIsWatchedOnceUnderTheLimit()
      throws IOException {
    Assumptions.assumeTrue(
        works("unshare", "-Ur", "sh", "-c", "echo 12 > /proc/sys/user/max_inotify_watches"),
        "user namespaces are not allowed here, and lowering fs.inotify.max_user_watches for the"
            + " whole machine is not a test's business");
    Path queues = Files.createDirectories(dir.resolve("queues"));
    for (int i = 0; i < 30; i++) {
      Files.createDirectories(queues.resolve("0/out-" + i));
    }
    Path file = Files.write(queues.resolve("0/out-29/1.pq"), new byte[100]);
    Path socket = dir.resolve("control.sock");
    try (Simulator sim = startSim()) {
      // The agent alone gets a limit of 12 watches: 32 directories cannot all be watched.
      List<String> limited =
          List.of(
              "unshare",
              "-Ur",
              "sh",
              "-c",
              "echo 12 > /proc/sys/user/max_inotify_watches && exec \"$0\" \"$@\"");
      try (AgentProcess agent =
          AgentProcess.start(
              limited,
              System.getProperty("java.class.path"),
              SigkillFaultTest.runArgs(sim, queues, socket),
              dir.resolve("agent.log"))) {
        await().atMost(WAIT).until(() -> !sim.calls("DescribeLifecycleHooks").isEmpty());
        await().atMost(WAIT).until(() -> rootField(socket, "polled").contains("inotify watches"));
        // Polled, not in error: the file in a directory it could not watch counts.
        assertThat(rootField(socket, "error")).isEmpty();
        assertThat(queuedBytes(socket)).isEqualTo(100);
        assertThat(MainTest.execute("status", "--control-socket", socket.toString()).out())
            .contains("POLLED, not watched: User limit of inotify watches reached");
        sim.terminate(INSTANCE);
        await()
            .atMost(WAIT)
            .until(() -> SigkillFaultTest.accepted(sim) > 0 || !agent.process().isAlive());
        assertThat(agent.process().isAlive()).as(agent.output()).isTrue();
        assertThat(sim.calls("CompleteLifecycleAction")).as(agent.output()).isEmpty();

        // The drain is seen by the walks, and the action completed.
        Files.delete(file);
        await().atMost(WAIT).until(() -> sim.actionEnd(INSTANCE).isPresent());
        assertThat(sim.actionEnd(INSTANCE))
            .hasValueSatisfying(e -> assertThat(e.result()).isEqualTo("CONTINUE"));
        assertThat(agent.output()).contains("queue root cannot be watched, polling it");

        // Under the limit again (an operator removed old output directories): watched again.
        for (int i = 5; i < 30; i++) {
          Files.delete(queues.resolve("0/out-" + i));
        }
        await().atMost(WAIT).until(() -> rootField(socket, "polled").isEmpty());
        assertThat(agent.output()).contains("queue root watched again");
      }
    }
  }

  @Test
  void diskFullWriter_itsPartialFileIsHeld_andTheAgentNeedsNoDiskOfItsOwn()
      throws IOException, InterruptedException {
    Assumptions.assumeTrue(
        works("unshare", "-Urm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"),
        "user and mount namespaces are not allowed here, and a full disk must not be made on the"
            + " machine's own filesystems");
    Path queues = Files.createDirectories(dir.resolve("queues"));
    Path socket = dir.resolve("control.sock");
    try (Simulator sim = startSim()) {
      // The queue root is a 256 KiB tmpfs that only the agent (and the writer) can see.
      List<String> tiny =
          List.of(
              "unshare",
              "-Urm",
              "sh",
              "-c",
              "mount -t tmpfs -o size=256k tmpfs " + queues + " && exec \"$0\" \"$@\"");
      try (AgentProcess agent =
          AgentProcess.start(
              tiny,
              System.getProperty("java.class.path"),
              SigkillFaultTest.runArgs(sim, queues, socket),
              dir.resolve("agent.log"))) {
        await().atMost(WAIT).until(() -> !sim.calls("DescribeLifecycleHooks").isEmpty());
        long pid = agent.process().pid();
        // Something is queued when the scale-in comes (the tmpfs is the agent's own: written to
        // from inside its namespaces).
        inNamespace(
            pid,
            "mkdir -p " + queues + "/0/out && head -c 4096 /dev/zero > " + queues + "/0/out/0.pq");
        await().atMost(WAIT).until(() -> queuedBytes(socket) == 4096);
        sim.terminate(INSTANCE);
        await()
            .atMost(WAIT)
            .until(() -> SigkillFaultTest.accepted(sim) > 0 || !agent.process().isAlive());

        // A writer fills the disk: its write fails with ENOSPC, leaving a partial file.
        String dd =
            inNamespace(
                pid,
                "dd if=/dev/zero of="
                    + queues
                    + "/0/out/1.pq bs=4k count=1000 2>&1; df -k "
                    + queues);
        assertThat(dd).contains("No space left on device");
        await().atMost(WAIT).until(() -> queuedBytes(socket) > 200_000);
        Thread.sleep(3000);
        assertThat(agent.process().isAlive()).isTrue();
        assertThat(sim.calls("CompleteLifecycleAction")).as(agent.output()).isEmpty();

        // The writer gives up and its data is sent: the queue drains and the action completes.
        inNamespace(pid, "rm -rf " + queues + "/0");
        await().atMost(WAIT).until(() -> sim.actionEnd(INSTANCE).isPresent());
        assertThat(sim.actionEnd(INSTANCE))
            .hasValueSatisfying(e -> assertThat(e.result()).isEqualTo("CONTINUE"));
      }
    }
  }

  // ---- helpers ----

  private static Simulator startSim() {
    Simulator sim = Simulator.start(Clock.systemUTC());
    sim.addGroup(GROUP);
    sim.addInstance(GROUP, INSTANCE, "us-east-1", true);
    sim.addTerminationHook(GROUP, "h", HT, "ABANDON");
    return sim;
  }

  private static void holding(Simulator sim, AgentProcess agent) {
    await().atMost(WAIT).until(() -> !sim.calls("DescribeLifecycleHooks").isEmpty());
    sim.terminate(INSTANCE);
    await()
        .atMost(WAIT)
        .until(() -> SigkillFaultTest.accepted(sim) > 0 || !agent.process().isAlive());
    assertThat(agent.process().isAlive()).as(agent.output()).isTrue();
  }

  /** Runs a shell command in the agent's namespaces, returning its output. */
  private static String inNamespace(long pid, String script)
      throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder("nsenter", "-t", Long.toString(pid), "-U", "-m", "sh", "-c", script)
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor(30, TimeUnit.SECONDS);
    return out;
  }

  private static JsonNode status(Path socket) throws IOException {
    MainTest.Run r = MainTest.execute("status", "--json", "--control-socket", socket.toString());
    return new ObjectMapper().readTree(r.out());
  }

  private static String rootError(Path socket) throws IOException {
    return rootField(socket, "error");
  }

  /** A text field of the first root in {@code status --json}; empty when absent. */
  private static String rootField(Path socket, String field) throws IOException {
    JsonNode value = status(socket).path("queues").path("roots").path(0).path(field);
    return value.isMissingNode() || value.isNull() ? "" : value.asText();
  }

  private static long queuedBytes(Path socket) throws IOException {
    return status(socket).path("queues").path("totalBytes").asLong();
  }

  private static void openUp(Path p, String perms) {
    try {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(perms));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (var all = Files.walk(from)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }
}
