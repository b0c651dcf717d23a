package dev.drainguard.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.drainguard.sim.Simulator;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * userdata/install.sh refusing to half-install (issue 20, finding 10), run for real into a
 * throwaway root with the DEB this build made: an unverified package, plain http, a download that
 * is refused at first, queue roots with rules, a wrong value, and a failure after the package step.
 * Packages are served over HTTP on 127.0.0.1 only.
 */
class UserDataInstallSafetyIT {

  static final String GROUP = "workers";
  static final String INSTANCE = "i-0123456789abcdef0";
  static final String HOOK = "drain-queues";

  @TempDir Path root;
  @TempDir Path tmp;
  Simulator sim;
  HttpServer http;

  @BeforeEach
  void startTheSimulator() {
    Pkg.requireTool("dpkg-deb");
    sim = Simulator.start(Clock.systemUTC());
    sim.addGroup(GROUP);
    sim.addInstance(GROUP, INSTANCE, "us-east-1", true);
    sim.addTerminationHook(GROUP, HOOK, Duration.ofSeconds(600), "ABANDON");
  }

  @AfterEach
  void stop() {
    sim.close();
    if (http != null) {
      http.stop(0);
    }
  }

  /** As UserDataInstallIT's: the DEB from a file, its checksum, the simulator's endpoints. */
  Map<String, String> env() {
    Map<String, String> env = Pkg.baseEnv();
    env.put("TMPDIR", tmp.toString());
    env.put("DRAINGUARD_ROOT", root.toString());
    env.put("DRAINGUARD_SKIP_JAVA", "1");
    env.put("DRAINGUARD_SKIP_SERVICE", "1");
    env.put("DRAINGUARD_PACKAGE_URL", "file://" + Pkg.DEB.toAbsolutePath());
    env.put("DRAINGUARD_PACKAGE_SHA256", UserDataInstallIT.sha256(Pkg.DEB));
    env.put("DRAINGUARD_LOOPBACK_ONLY", "true");
    env.put("DRAINGUARD_IMDS_ENDPOINT", sim.imdsEndpoint().toString());
    env.put("DRAINGUARD_AUTOSCALING_ENDPOINT", sim.autoScalingEndpoint().toString());
    env.put("DRAINGUARD_IMDS_STARTUP_TIMEOUT", "10s");
    env.put("DRAINGUARD_REGION", "us-east-1");
    env.put("DRAINGUARD_ASG_NAME", GROUP);
    env.put("DRAINGUARD_HOOK_NAME", HOOK);
    env.put("AWS_ACCESS_KEY_ID", "test");
    env.put("AWS_SECRET_ACCESS_KEY", "test");
    env.put("AWS_EC2_METADATA_DISABLED", "true");
    return env;
  }

  static Pkg.Result install(Map<String, String> env) {
    return UserDataInstallIT.install(env);
  }

  /** Serves the DEB at http://127.0.0.1:{port}/drainguard_all.deb. */
  void serveTheDeb(int port) throws IOException {
    http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
    byte[] deb = Files.readAllBytes(Pkg.DEB);
    http.createContext(
        "/",
        ex -> {
          ex.sendResponseHeaders(200, deb.length);
          try (OutputStream out = ex.getResponseBody()) {
            out.write(deb);
          }
        });
    http.start();
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void withoutAChecksum_nothingIsInstalled_unlessUnverifiedIsAllowedOutright() {
    Map<String, String> env = env();
    env.remove("DRAINGUARD_PACKAGE_SHA256");

    Pkg.Result refused = install(env);

    // issue 20: the checksum was optional and its absence only logged
    assertThat(refused.exit()).isEqualTo(1);
    assertThat(refused.lines())
        .last()
        .asString()
        .startsWith(
            "drainguard install: FAILED at step preflight: DRAINGUARD_PACKAGE_SHA256 is not set");
    assertThat(root.resolve("usr")).doesNotExist();

    env.put("DRAINGUARD_ALLOW_UNVERIFIED", "1");
    env.put("DRAINGUARD_SKIP_CHECK", "1");
    Pkg.Result allowed = install(env).ok();
    assertThat(allowed.out())
        .contains(
            "warning: verify: NOT verified (DRAINGUARD_ALLOW_UNVERIFIED=1); the package's SHA-256"
                + " is "
                + UserDataInstallIT.sha256(Pkg.DEB),
            "(with warnings above)");
  }

  @Test
  void plainHttp_isRefusedEvenWithAChecksum_unlessUnverifiedIsAllowed() throws IOException {
    int port = freePort();
    serveTheDeb(port);
    Map<String, String> env = env();
    env.put("DRAINGUARD_PACKAGE_URL", "http://127.0.0.1:" + port + "/drainguard_all.deb");

    Pkg.Result refused = install(env);

    // issue 20: http:// was accepted with a warning
    assertThat(refused.exit()).isEqualTo(1);
    assertThat(refused.lines())
        .last()
        .asString()
        .contains("FAILED at step preflight: plain http:// can be tampered with");
    assertThat(root.resolve("usr")).doesNotExist();

    env.put("DRAINGUARD_ALLOW_UNVERIFIED", "1");
    env.put("DRAINGUARD_SKIP_CHECK", "1");
    assertThat(install(env).ok().out())
        .contains("warning: plain http", "verify: sha256 " + UserDataInstallIT.sha256(Pkg.DEB));
  }

  @Test
  void aRefusedConnection_isTriedAgainUntilTheServerIsUp() throws Exception {
    int port = freePort(); // nothing listens there yet
    Map<String, String> env = env();
    env.put("DRAINGUARD_PACKAGE_URL", "http://127.0.0.1:" + port + "/drainguard_all.deb");
    env.put("DRAINGUARD_ALLOW_UNVERIFIED", "1");
    env.put("DRAINGUARD_SKIP_CHECK", "1");
    Path out = tmp.resolve("install.out");
    ProcessBuilder pb = new ProcessBuilder("sh", UserDataInstallIT.SCRIPT.toString());
    pb.environment().clear();
    pb.environment().putAll(env);
    Process p = pb.redirectErrorStream(true).redirectOutput(out.toFile()).start();
    try {
      // issue 20: curl's --retry does not retry a refused connection: the install failed here
      await().atMost(Duration.ofSeconds(60)).until(() -> read(out).contains("try 1 failed"));
      serveTheDeb(port);

      assertThat(p.waitFor(120, TimeUnit.SECONDS)).as(read(out)).isTrue();
      assertThat(p.exitValue()).as(read(out)).isZero();
      assertThat(read(out)).contains("fetch: try 1 failed", "package: installing drainguard");
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void queueRootsWithRules_areCreatedAsTheAgentReadsThem_neitherSplitOnCommasNorGlobbed()
      throws IOException {
    Map<String, String> env = env();
    String value =
        "/var/spool/rsyslog:ignore=*.qi,**/*.lock, /opt/cribl/state/queues:residual=4096";
    env.put("DRAINGUARD_QUEUE_ROOT", value);

    Pkg.Result r = install(env).ok();

    assertThat(r.out())
        .contains(
            "validate: every value accepted",
            "queue-root: created /var/spool/rsyslog",
            "queue-root: created /opt/cribl/state/queues");
    assertThat(UserDataInstallIT.configKeys(root.resolve("etc/drainguard/drainguard.conf")))
        .containsEntry("queue-root", value);
    // issue 20: it created var/spool/rsyslog:ignore=*.qi, and from '**' directories named after
    // the working directory's entries
    assertThat(root.resolve("var/spool").toFile().list()).containsExactly("rsyslog");
    assertThat(root.resolve("opt/cribl/state").toFile().list()).containsExactly("queues");
    try (Stream<Path> all = Files.walk(root)) {
      List<String> names = all.map(p -> p.getFileName().toString()).toList();
      assertThat(names).noneMatch(n -> n.contains("*") || n.contains(":") || n.contains(","));
      String[] here = Path.of("").toAbsolutePath().toFile().list();
      assertThat(root.toFile().list()).doesNotContain(here);
    }
  }

  @Test
  void aWrongValue_failsBeforeAnythingIsInstalled() {
    Map<String, String> env = env();
    env.put("DRAINGUARD_QUIET_PERIOD", "soon");

    Pkg.Result r = install(env);

    // issue 20: values were checked after the package was in, leaving an installed, enabled unit
    // with the default config
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.lines())
        .last()
        .asString()
        .startsWith("drainguard install: FAILED at step validate: drainguard: ")
        .contains("--quiet-period", "'soon'");
    assertThat(root.resolve("usr")).doesNotExist();
    assertThat(root.resolve("etc/drainguard")).doesNotExist();
  }

  @Test
  void aFailureAfterThePackageStep_leavesTheUnitDisabled_andSaysHowToFinish() throws IOException {
    Pkg.requireTool("systemctl");
    // the unit enabled already, as a package's postinst (or an earlier image step) leaves it
    Path wants = root.resolve("etc/systemd/system/multi-user.target.wants/drainguard.service");
    Files.createDirectories(wants.getParent());
    Files.createSymbolicLink(wants, Path.of("/usr/lib/systemd/system/drainguard.service"));
    Map<String, String> env = env();
    env.put("DRAINGUARD_HOOK_NAME", "no-such-hook"); // valid, but check fails on it
    env.put("DRAINGUARD_CHECK_STRICT", "1");

    Pkg.Result r = install(env);

    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.out())
        .contains("package: installing drainguard", "FAILED at step check")
        .contains("drainguard is installed but NOT enabled", "run this script again");
    assertThat(wants).doesNotExist();
    assertThat(root.resolve("usr/bin/drainguard")).isExecutable();
  }

  static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
