package dev.drainguard.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control socket of the installed agent (the packaged launcher, against the simulator on
 * loopback) used by other users, as issue 20's review did: clients run as root, as a member of the
 * socket's group and as a stranger ({@code setpriv}), raw clients and a fake agent in Python. Here
 * the agent runs as root and its socket keeps group root (there is no drainguard group on a build
 * machine), so "a member" is a user whose group is root's (gid 0). Needs root, setpriv and python3.
 */
class OperatorSocketIT {

  static final int NOBODY = 65534;

  /** A uid with no passwd entry: named by its number. */
  static final int STRANGER = 23456;

  static final String PYTHON = "/usr/bin/python3";

  @TempDir Path root;
  @TempDir Path work;
  InstalledAgent installed;
  final List<Process> helpers = new ArrayList<>();

  @BeforeEach
  void needsRootAndTools() throws IOException {
    Assumptions.assumeTrue(
        "root".equals(System.getProperty("user.name")),
        "SKIPPED: these tests run clients as other users (setpriv), which needs root");
    Pkg.requireTool("setpriv");
    Assumptions.assumeTrue(Files.isExecutable(Path.of(PYTHON)), "SKIPPED: no " + PYTHON);
    // other users must reach the unpacked package, the config and the socket's directory
    for (Path p : List.of(root, work)) {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
  }

  @AfterEach
  void stop() throws InterruptedException {
    for (Process p : helpers) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    if (installed != null) {
      installed.close();
    }
  }

  InstalledAgent start(String... moreConfig) {
    installed = new InstalledAgent(root, work, moreConfig);
    installed.start();
    installed.awaitStatus(0);
    return installed;
  }

  Path socket() {
    return work.resolve("run/control.sock");
  }

  /** The installed launcher run as {@code uid} with primary group {@code gid} and no others. */
  Pkg.Result as(int uid, int gid, Map<String, String> extraEnv, String... args) {
    Map<String, String> env = new HashMap<>(installed.env);
    env.putAll(extraEnv);
    List<String> cmd = new ArrayList<>(setpriv(uid, gid));
    cmd.add(installed.launcher().toString());
    cmd.addAll(List.of(args));
    return Pkg.run(env, cmd.toArray(String[]::new));
  }

  Pkg.Result asRoot(String... args) {
    return Pkg.run(installed.env, prepend(installed.launcher().toString(), args));
  }

  static List<String> setpriv(int uid, int gid) {
    return List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups");
  }

  static String[] prepend(String first, String... rest) {
    String[] all = new String[rest.length + 1];
    all[0] = first;
    System.arraycopy(rest, 0, all, 1, rest.length);
    return all;
  }

  /**
   * A Python helper run as {@code uid}:{@code gid}, its stdout in a file; killed after the test.
   */
  Path python(int uid, int gid, String script, String... args) throws IOException {
    Path file = Files.writeString(work.resolve("helper-" + helpers.size() + ".py"), script);
    Path out = work.resolve("helper-" + helpers.size() + ".out");
    List<String> cmd = new ArrayList<>(setpriv(uid, gid));
    cmd.add(PYTHON);
    cmd.add(file.toString());
    cmd.addAll(List.of(args));
    helpers.add(
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start());
    return out;
  }

  static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The agent's log lines that contain {@code text}. */
  List<String> logLines(String text) {
    return installed.log().lines().filter(l -> l.contains(text)).toList();
  }

  @Test
  void holdAndForcedRelease_areAttributedToTheKernelsUid_notTheNameTheClientClaims()
      throws IOException {
    start();
    // issue 20: DRAINGUARD_JAVA_OPTS=-Duser.name=root made a hold read "by root"
    Map<String, String> claimsRoot = Map.of("DRAINGUARD_JAVA_OPTS", "-Duser.name=root");

    Pkg.Result hold = as(NOBODY, 0, claimsRoot, "hold");
    assertThat(hold.exit()).as(hold.err()).isZero();

    assertThat(logLines("operator hold"))
        .singleElement()
        .asString()
        .contains("uid=65534 user=nobody");
    assertThat(installed.log()).doesNotContain("by root", "user=root");
    assertThat(asRoot("status").out()).contains(", by nobody (uid 65534): no reason given");

    Files.write(installed.queue.resolve("batch-1"), new byte[4096]);
    installed.sim.terminate(InstalledAgent.INSTANCE);
    installed.awaitStatus(10);
    Pkg.Result release =
        as(STRANGER, 0, claimsRoot, "release", "--force", "--reason", "destination retired");
    assertThat(release.exit()).as(release.err()).isZero();

    // the line that says who lost data, with the uid the kernel gave (a uid with no name is
    // named by its number)
    assertThat(logLines("operator release --force"))
        .singleElement()
        .asString()
        .contains("ERROR", "uid=23456 user=23456 bytesLost=4096", "destination retired");
    assertThat(asRoot("status", "--json").out())
        .contains("released by operator 23456 (uid 23456) with --force, 4096 bytes lost");
  }

  @Test
  void aUserOutsideTheGroup_isToldSo_notThatTheAgentIsDown() {
    start();

    Pkg.Result r = as(NOBODY, NOBODY, Map.of(), "status");

    // issue 20: EACCES read as exit 3 "is the agent running?"
    assertThat(r.exit()).as(r.err()).isEqualTo(77);
    assertThat(r.err())
        .contains("permission denied on " + socket(), "usermod -aG drainguard")
        .doesNotContain("is the agent running");
  }

  @Test
  void aSocketPutUpByAGroupMember_isNotBelieved() throws IOException {
    start();
    // the agent's own directory: members may reach the socket, not remove or replace it
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket().getParent())))
        .isEqualTo("rwxr-x---");
    // what issue 20's reviewer did in the old group-writable directory: a member's own socket
    // that says the drain is over
    Path shared = Files.createDirectories(work.resolve("shared"));
    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwx---"));
    Path fake = shared.resolve("control.sock");
    Path out = python(NOBODY, 0, FAKE_AGENT, fake.toString());
    await().atMost(Duration.ofSeconds(20)).until(() -> read(out).contains("listening"));

    Pkg.Result r = asRoot("status", "--control-socket", fake.toString());

    assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(4);
    assertThat(r.err())
        .contains("not asking " + fake, "served by nobody (uid 65534)", "that is not the agent")
        .contains("nothing was sent");
    assertThat(r.out()).doesNotContain("COMPLETED");
    assertThat(read(out)).doesNotContain("request"); // nothing reached the fake
  }

  @Test
  void aJammedSocket_stillAnswersRoot_andClosesIdleAndTricklingClientsWithinSeconds()
      throws IOException {
    start();
    // ten members, eight connections each, each asking every 2 s (which kept a slot for ever);
    // and one member trickling a byte a second on four connections
    Path trickler = python(20100, 0, JAMMER, socket().toString(), "4", "trickle", "120");
    await().atMost(Duration.ofSeconds(30)).until(() -> read(trickler).contains("connected 4"));
    List<Path> askers = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      askers.add(python(20000 + i, 0, JAMMER, socket().toString(), "8", "ask", "120"));
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> askers.stream().allMatch(p -> read(p).contains("connected 8")));

    // issue 20: with 66 such clients root's status said "did not answer within PT30S" (exit 3)
    Pkg.Result status = asRoot("status");
    assertThat(status.exit()).as(status.err()).isZero();
    assertThat(status.out()).contains("phase         IN_SERVICE");

    // a client that never completes its request is cut off within seconds
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(read(trickler)).contains("closed 4 of 4"));
    // each member got at most its own share of slots; the rest were told "busy" at once
    for (Path p : askers) {
      assertThat(read(p)).contains("busy");
    }
  }

  @Test
  void aReasonCannotForgeALogLineOrReachTheTerminal_andHoldsCannotFloodTheLog() throws IOException {
    start();
    String forged =
        "ok\n<3>2026-12-07T00:00:00.000Z ERROR DrainController - drain ended phase=COMPLETED"
            + "\u001b[2J\u001b]0;owned\u0007";

    assertThat(asRoot("hold", "--reason", forged).exit()).isZero();

    assertThat(installed.log().lines())
        .noneMatch(
            l -> l.startsWith("<3>") || l.matches("^\\S+ ERROR +DrainController - drain ended.*"));
    assertThat(logLines("operator hold"))
        .singleElement()
        .asString()
        .contains("ok\\n<3>2026-12-07", "\\u001b[2J\\u001b]0;owned\\u0007");
    String status = asRoot("status").out();
    assertThat(status).doesNotContain("\u001b", "\u0007").contains("\\u001b[2J");
    assertThat(asRoot("status", "--json").out()).doesNotContain("\u001b", "\u0007");

    Pkg.Result tooLong = asRoot("hold", "--reason", "x".repeat(2048));
    assertThat(tooLong.exit()).isEqualTo(1);
    assertThat(tooLong.err()).contains("reason is 2048 characters long: at most 500");

    // issue 20: 20,000 holds with 2 KB reasons wrote 43.7 MB of WARN lines
    Path flood = python(0, 0, FLOOD, socket().toString(), "600", "r".repeat(400));
    await().atMost(Duration.ofSeconds(60)).until(() -> read(flood).contains("sent 600"));
    assertThat(read(flood)).contains("accepted 600");
    assertThat(logLines("operator hold")).hasSizeLessThanOrEqualTo(25);
    // what was left out is counted on the next line written
    Path more = python(0, 0, FLOOD, socket().toString(), "1", "again", "0.5", "60");
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> !logLines("earlier hold/release lines left out").isEmpty());
    helpers.get(helpers.size() - 1).destroy();
    assertThat(read(more)).contains("accepted");
  }

  @Test
  void anOperatorHold_survivesARestartOfTheAgent() throws IOException, InterruptedException {
    Path state = work.resolve("state");
    start("state-directory = " + state);
    assertThat(asRoot("hold", "--reason", "checking the S3 output").exit()).isZero();
    installed.sim.terminate(InstalledAgent.INSTANCE);
    installed.awaitStatus(10); // the queue is empty: only the hold keeps the action

    installed.stop();
    Path saved = state.resolve("operator-hold.properties");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(saved)))
        .isEqualTo("rw-------");
    assertThat(read(saved)).contains("uid=0", "user=root", "reason=checking the S3 output");

    installed.start();
    // issue 20: the restarted agent sent CONTINUE a second later; now it holds and heartbeats
    await()
        .atMost(InstalledAgent.WAIT)
        .untilAsserted(
            () ->
                assertThat(asRoot("status", "--json").out())
                    .contains("\"phase\":\"HOLDING\"")
                    .contains("by root (uid 0): checking the S3 output (kept across a restart)")
                    .containsPattern("\"heartbeats\":[1-9]"));
    assertThat(installed.sim.calls("CompleteLifecycleAction")).isEmpty();
    assertThat(logLines("operator hold restored")).singleElement().asString().contains("uid=0");

    assertThat(asRoot("release").exit()).isZero();
    installed.awaitStatus(11);
    assertThat(saved).doesNotExist();
  }

  @Test
  void anAgentWhoseUserIsNotInTheControlGroup_startsAndSaysSo() throws IOException {
    // a drop-in with another User= that is not a member of the group: the agent exited 1 at
    // start and was restarted for ever
    Path run = Files.createDirectories(work.resolve("nobody-run"));
    Files.setOwner(
        run, run.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
    installed = new InstalledAgent(root, work, "control-group = root");
    installed.env.put("DRAINGUARD_CONTROL_SOCKET", run.resolve("control.sock").toString());
    installed.start(setpriv(NOBODY, NOBODY));
    installed.awaitStatus(0);

    assertThat(logLines("cannot be given to group=root"))
        .singleElement()
        .asString()
        .contains("WARN", "usermod -aG root");
    assertThat(asRoot("status").out()).contains("phase         IN_SERVICE");
  }

  /** A fake agent: answers every request that the drain is over. */
  static final String FAKE_AGENT =
      """
      import os, socket, sys
      s = socket.socket(socket.AF_UNIX)
      s.bind(sys.argv[1])
      os.chmod(sys.argv[1], 0o660)
      s.listen(8)
      print("listening", flush=True)
      while True:
          c, _ = s.accept()
          data = c.recv(4096)
          if data:
              print("request", data, flush=True)
          c.sendall(b'{"v":1,"ok":true,"status":{"phase":"COMPLETED","queues":{"empty":true}}}\\n')
          c.close()
      """;

  /**
   * Opens N connections; "ask" sends a status request on each every 2 s, "trickle" one byte a
   * second; reports connections the server closed or refused ("busy").
   */
  static final String JAMMER =
      """
      import socket, sys, time
      path, n, mode, limit = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
      socks = []
      for i in range(n):
          s = socket.socket(socket.AF_UNIX)
          s.connect(path)
          s.settimeout(5)
          socks.append(s)
      print("connected", n, flush=True)
      closed = set()
      start = time.time()
      while time.time() - start < limit and len(closed) < n:
          for i, s in enumerate(socks):
              if i in closed:
                  continue
              try:
                  if mode == "ask":
                      s.sendall(b'{"v":1,"op":"status"}\\n')
                      reply = b""
                      while not reply.endswith(b"\\n"):
                          chunk = s.recv(65536)
                          if not chunk:
                              raise OSError("closed")
                          reply += chunk
                      if b"busy:" in reply:
                          print("busy", flush=True)
                  else:
                      s.sendall(b"{")
              except OSError:
                  try:
                      if b"busy:" in s.recv(65536):
                          print("busy", flush=True)
                  except OSError:
                      pass
                  closed.add(i)
                  print("closed", len(closed), "of", n, flush=True)
          time.sleep(2 if mode == "ask" else 1)
      """;

  /** Sends COUNT holds with REASON over connections of 16 requests; optionally paced and timed. */
  static final String FLOOD =
      """
      import socket, sys, time, json
      path, count, reason = sys.argv[1], int(sys.argv[2]), sys.argv[3]
      pause = float(sys.argv[4]) if len(sys.argv) > 4 else 0
      rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 1
      accepted = 0
      for r in range(rounds):
          sent = 0
          while sent < count:
              s = socket.socket(socket.AF_UNIX)
              s.connect(path)
              f = s.makefile("rwb")
              for i in range(min(16, count - sent)):
                  f.write(json.dumps({"v": 1, "op": "hold", "reason": reason}).encode() + b"\\n")
                  f.flush()
                  if json.loads(f.readline())["ok"]:
                      accepted += 1
                  sent += 1
              s.close()
          print("sent", sent, "accepted", accepted, flush=True)
          time.sleep(pause)
      """;
}
