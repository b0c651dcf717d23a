package dev.drainguard.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.config.Setting;
import dev.drainguard.sim.Simulator;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * userdata/install.sh run for real on this machine, into a throwaway root (DRAINGUARD_ROOT), with
 * the packages this build made: what it installs, the config it writes, that a second run changes
 * nothing, and how it fails. Its {@code drainguard check} step runs against the simulator on
 * loopback.
 */
class UserDataInstallIT {

  static final Path SCRIPT = Path.of("../userdata/install.sh").toAbsolutePath().normalize();
  static final String GROUP = "workers";
  static final String INSTANCE = "i-0123456789abcdef0";
  static final String HOOK = "drain-queues";
  static final String QUEUE_ROOT = "/opt/cribl/state/queues";

  /** The file every run appends to: the only file a second run may change. */
  static final String LOG = "var/log/drainguard-install.log";

  @TempDir Path root;
  @TempDir Path tmp;
  Simulator sim;

  @BeforeEach
  void startTheSimulator() {
    sim = Simulator.start(Clock.systemUTC());
    sim.addGroup(GROUP);
    sim.addInstance(GROUP, INSTANCE, "us-east-1", true);
    sim.addTerminationHook(GROUP, HOOK, Duration.ofSeconds(600), "ABANDON");
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  /** A user-data environment pointed at the DEB, the throwaway root and the simulator. */
  Map<String, String> env() {
    Map<String, String> env = Pkg.baseEnv();
    env.put("TMPDIR", tmp.toString());
    env.put("DRAINGUARD_ROOT", root.toString());
    env.put("DRAINGUARD_SKIP_JAVA", "1");
    env.put("DRAINGUARD_SKIP_SERVICE", "1");
    env.put("DRAINGUARD_PACKAGE_URL", "file://" + Pkg.DEB.toAbsolutePath());
    env.put("DRAINGUARD_PACKAGE_SHA256", sha256(Pkg.DEB).toUpperCase(Locale.ROOT));
    // the agent's options, written to the config; the endpoints keep check on loopback
    env.put("DRAINGUARD_LOOPBACK_ONLY", "true");
    env.put("DRAINGUARD_IMDS_ENDPOINT", sim.imdsEndpoint().toString());
    env.put("DRAINGUARD_AUTOSCALING_ENDPOINT", sim.autoScalingEndpoint().toString());
    env.put("DRAINGUARD_IMDS_STARTUP_TIMEOUT", "10s");
    env.put("DRAINGUARD_REGION", "us-east-1");
    env.put("DRAINGUARD_ASG_NAME", GROUP);
    env.put("DRAINGUARD_HOOK_NAME", HOOK);
    env.put("DRAINGUARD_DEADLINE_POLICY", "expire");
    env.put("DRAINGUARD_PROTECT_WHILE_BUSY", "true");
    env.put("DRAINGUARD_IGNORE_GLOB", "**/*.lock");
    env.put("DRAINGUARD_METRICS_PORT", "9464");
    env.put("AWS_ACCESS_KEY_ID", "test");
    env.put("AWS_SECRET_ACCESS_KEY", "test");
    env.put("AWS_EC2_METADATA_DISABLED", "true");
    return env;
  }

  static Pkg.Result install(Map<String, String> env) {
    Pkg.Result r = Pkg.run(env, "sh", SCRIPT.toString());
    System.out.printf("install.sh exit %d:%n%s%s%n", r.exit(), r.out(), r.err());
    return r;
  }

  @Test
  void installsTheDebIntoARootWritesTheConfigAndASecondRunChangesNothing() {
    Pkg.requireTool("dpkg-deb");

    Pkg.Result first = install(env()).ok();

    assertThat(first.out())
        .contains(
            "drainguard install: system debian:",
            "verify: sha256 " + sha256(Pkg.DEB) + " matches",
            "package: installing drainguard " + Pkg.VERSION + "-" + Pkg.RELEASE,
            "queue-root: created " + QUEUE_ROOT,
            "check: passed",
            "service: skipped (DRAINGUARD_SKIP_SERVICE=1)",
            "done: changed package config queue-root");
    // the package's files, as dpkg would lay them
    assertThat(root.resolve("usr/bin/drainguard")).isExecutable();
    assertThat(root.resolve("usr/share/drainguard/lib").toFile().list())
        .containsExactlyInAnyOrderElementsOf(Pkg.launcherJars());
    assertThat(root.resolve("usr/lib/systemd/system/drainguard.service"))
        .hasSameTextualContentAs(
            Pkg.SOURCES.resolve("root/usr/lib/systemd/system/drainguard.service"));
    assertThat(root.resolve("usr/libexec/drainguard/maintainer")).isExecutable();
    // the config: exactly the variables given, queue-root defaulted; the package's is kept
    Path conf = root.resolve("etc/drainguard/drainguard.conf");
    assertThat(configKeys(conf))
        .containsExactlyEntriesOf(
            ordered(
                "queue-root", QUEUE_ROOT,
                "ignore-glob", "**/*.lock",
                "deadline-policy", "expire",
                "protect-while-busy", "true",
                "asg-name", GROUP,
                "hook-name", HOOK,
                "region", "us-east-1",
                "imds-endpoint", sim.imdsEndpoint().toString(),
                "autoscaling-endpoint", sim.autoScalingEndpoint().toString(),
                "imds-startup-timeout", "10s",
                "loopback-only", "true",
                "metrics-port", "9464"));
    assertThat(posixMode(conf)).isEqualTo("rw-r--r--");
    assertThat(root.resolve("etc/drainguard/drainguard.conf.bak"))
        .hasSameTextualContentAs(Pkg.SOURCES.resolve("root/etc/drainguard/drainguard.conf"));
    assertThat(root.resolve(QUEUE_ROOT.substring(1))).isDirectory();
    // everything said on the console is in the log too
    assertThat(Pkg.read(root.resolve(LOG))).contains("check: passed", "done: changed package");

    Map<String, String> before = snapshot(root);
    Pkg.Result second = install(env()).ok();

    assertThat(second.out())
        .contains(
            "package: drainguard " + Pkg.VERSION + "-" + Pkg.RELEASE + " already installed",
            "config: " + conf + " unchanged",
            "queue-root: " + QUEUE_ROOT + " exists",
            "check: passed",
            "done: nothing changed")
        .doesNotContain("dpkg-deb -x", "config: wrote");
    assertUnchanged(before, snapshot(root));

    // a changed variable rewrites the config, and only it; the previous one is kept
    Map<String, String> changed = env();
    changed.put("DRAINGUARD_DEADLINE_POLICY", "complete");
    Pkg.Result third = install(changed).ok();

    assertThat(third.out()).contains("config: wrote", "done: changed config");
    assertThat(configKeys(conf)).containsEntry("deadline-policy", "complete");
    assertThat(configKeys(root.resolve("etc/drainguard/drainguard.conf.bak")))
        .containsEntry("deadline-policy", "expire");
  }

  @Test
  void installsTheRpmIntoARootAsOnAmazonLinux2023() {
    Pkg.requireTool("rpm");
    Map<String, String> env = env();
    env.put("DRAINGUARD_OS_RELEASE", osRelease("amzn", "2023").toString());
    env.put("DRAINGUARD_PACKAGE_URL", Pkg.RPM.toAbsolutePath().toString());
    env.put("DRAINGUARD_PACKAGE_SHA256", sha256(Pkg.RPM));
    env.put("DRAINGUARD_SKIP_CHECK", "1");

    Pkg.Result first = install(env).ok();

    assertThat(first.out())
        .contains(
            "system amzn:2023: dnf, .rpm packages",
            "verify: sha256 " + sha256(Pkg.RPM) + " matches",
            "rpm --root " + root,
            "check: skipped (DRAINGUARD_SKIP_CHECK=1)");
    String version = Pkg.VERSION + "-" + Pkg.RELEASE;
    assertThat(
            Pkg.run(
                    "rpm",
                    "--root",
                    root.toString(),
                    "-q",
                    "--qf",
                    "%{VERSION}-%{RELEASE}",
                    "drainguard")
                .ok()
                .out())
        .isEqualTo(version);
    assertThat(root.resolve("usr/bin/drainguard")).isExecutable();
    assertThat(configKeys(root.resolve("etc/drainguard/drainguard.conf")))
        .containsEntry("hook-name", HOOK);

    Map<String, String> before = snapshot(root);
    Pkg.Result second = install(env).ok();

    assertThat(second.out())
        .contains("package: drainguard " + version + " already installed", "done: nothing changed");
    assertUnchanged(before, snapshot(root));
  }

  @Test
  void withoutSkipServiceARootInstallEnablesTheUnitAndStartsNothing() {
    Pkg.requireTool("systemctl");
    Map<String, String> env = env();
    env.remove("DRAINGUARD_SKIP_SERVICE");
    env.put("DRAINGUARD_SKIP_CHECK", "1");

    Pkg.Result first = install(env).ok();

    assertThat(first.out())
        .contains(
            "systemctl --root " + root + " enable drainguard.service",
            "service: not started (DRAINGUARD_ROOT is set)");
    assertThat(root.resolve("etc/systemd/system/multi-user.target.wants/drainguard.service"))
        .isSymbolicLink();
    assertThat(install(env).ok().out())
        .contains("service: enabled in " + root, "done: nothing changed");
  }

  @Test
  void aPackageWithAnotherSha256IsRefusedAndNothingIsInstalled() {
    Map<String, String> env = env();
    env.put("DRAINGUARD_PACKAGE_SHA256", "0".repeat(64));

    Pkg.Result r = install(env);

    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.lines())
        .last()
        .isEqualTo(
            "drainguard install: FAILED at step verify: sha256 of file://"
                + Pkg.DEB.toAbsolutePath()
                + " is "
                + sha256(Pkg.DEB)
                + ", expected "
                + "0".repeat(64));
    assertThat(root.resolve("usr")).doesNotExist();
    assertThat(Pkg.read(root.resolve(LOG))).contains("FAILED at step verify");
  }

  @Test
  void anS3UrlWithoutTheAwsCliFailsAtFetchAndSaysWhy() {
    // the PATH of these runs is the system directories only
    Assumptions.assumeFalse(
        Stream.of("/usr/sbin", "/usr/bin", "/sbin", "/bin")
            .anyMatch(d -> Files.isExecutable(Path.of(d, "aws"))),
        "SKIPPED: an aws CLI is installed in a system directory here");
    Map<String, String> env = env();
    env.put("DRAINGUARD_PACKAGE_URL", "s3://my-bucket/drainguard_0.1.0-1_all.deb");

    Pkg.Result r = install(env);

    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.lines())
        .last()
        .isEqualTo(
            "drainguard install: FAILED at step fetch: s3://my-bucket/drainguard_0.1.0-1_all.deb"
                + " needs the AWS CLI (aws), which is not installed; use an https:// URL");
  }

  @Test
  void anUnsupportedSystemOrNoPackageUrlFailsNamingTheStep() {
    Map<String, String> alpine = env();
    alpine.put("DRAINGUARD_OS_RELEASE", osRelease("alpine", "3.20").toString());
    Pkg.Result r = install(alpine);
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.lines())
        .last()
        .isEqualTo(
            "drainguard install: FAILED at step detect-os: unsupported system alpine:3.20"
                + " (Amazon Linux 2023, Amazon Linux 2, Ubuntu, Debian)");

    Map<String, String> noUrl = env();
    noUrl.remove("DRAINGUARD_PACKAGE_URL");
    r = install(noUrl);
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.lines())
        .last()
        .isEqualTo(
            "drainguard install: FAILED at step preflight: DRAINGUARD_PACKAGE_URL is not set");
  }

  @Test
  void theScriptKnowsEveryKeyOfTheAgentAndNoOther() {
    // a key the agent does not know would stop it (exit 78); one missing could not be set
    Matcher m = Pattern.compile("(?s)\nkeys=\"([^\"]*)\"").matcher(Pkg.read(SCRIPT));
    assertThat(m.find()).as("keys=\"...\" in install.sh").isTrue();

    assertThat(Arrays.asList(m.group(1).trim().split("\\s+")))
        .containsExactlyElementsOf(Stream.of(Setting.values()).map(Setting::key).toList());
  }

  /** The config's keys and values, in file order; a repeated key would fail. */
  static Map<String, String> configKeys(Path conf) {
    Map<String, String> keys = new LinkedHashMap<>();
    for (String line : Pkg.read(conf).lines().toList()) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] kv = line.split(" = ", 2);
      assertThat(kv).as("'key = value' line: %s", line).hasSize(2);
      assertThat(keys.put(kv[0], kv[1])).as("key %s once", kv[0]).isNull();
    }
    return keys;
  }

  static Map<String, String> ordered(String... kv) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  Path osRelease(String id, String version) {
    return Pkg.write(
        tmp.resolve("os-release-" + id),
        "NAME=\"test\"\nID=\"" + id + "\"\nVERSION_ID=\"" + version + "\"\n");
  }

  /** Every path under {@code dir} but the install log: type, mode, size, mtime and content hash. */
  static Map<String, String> snapshot(Path dir) {
    Map<String, String> files = new TreeMap<>();
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.toList()) {
        String rel = dir.relativize(p).toString();
        // SQLite's shared-memory index of rpm's database is touched by every reader (rpm -q)
        if (rel.equals(LOG) || rel.endsWith("rpmdb.sqlite-shm")) {
          continue;
        }
        boolean link = Files.isSymbolicLink(p);
        String what =
            link
                ? "link " + Files.readSymbolicLink(p)
                : posixMode(p)
                    + " "
                    + Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toMillis()
                    + (Files.isRegularFile(p) ? " " + Files.size(p) + " " + sha256(p) : " dir");
        files.put(rel, what);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return files;
  }

  /** Names only the paths that differ: a whole-tree message would be unreadable. */
  static void assertUnchanged(Map<String, String> before, Map<String, String> after) {
    Set<String> paths = new TreeSet<>(before.keySet());
    paths.addAll(after.keySet());
    Map<String, String> diff = new TreeMap<>();
    for (String p : paths) {
      if (!Objects.equals(before.get(p), after.get(p))) {
        diff.put(p, before.getOrDefault(p, "(none)") + " -> " + after.getOrDefault(p, "(none)"));
      }
    }
    assertThat(diff).as("paths a second run changed").isEmpty();
  }

  static String posixMode(Path p) {
    try {
      return PosixFilePermissions.toString(
          Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String sha256(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }
}
