package dev.drainguard.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The installed launcher's choice of Java, its errors, and its CDS archive. */
class LauncherIT {

  /** The launcher's exit code when it cannot run the agent (sysexits EX_UNAVAILABLE). */
  static final int UNAVAILABLE = 69;

  static final int CONFIG = 78;

  @TempDir static Path root;
  static Path launcher;

  @BeforeAll
  static void unpack() {
    Pkg.extractDeb(root);
    launcher = root.resolve("usr/bin/drainguard");
  }

  /** No JAVA_HOME, a PATH without java, and runtimes looked for in {@code jvmDir} only. */
  static Map<String, String> noJava(Path jvmDir) {
    Map<String, String> env = new HashMap<>();
    env.put("PATH", "/nonexistent");
    env.put("DRAINGUARD_JVM_DIR", jvmDir.toString());
    return env;
  }

  /** A fake Java 11: a java that answers -XshowSettings as Java 11 does, with no release file. */
  static Path fakeJava11(Path dir) {
    Pkg.script(
        dir.resolve("bin/java"),
        """
        echo 'Property settings:' >&2
        echo '    java.specification.version = 11' >&2
        echo '    java.version = 11.0.22' >&2
        echo 'openjdk version "11.0.22" 2024-01-16' >&2
        """);
    return dir;
  }

  @Test
  void noJavaAtAllIsOneLineAndExit69(@TempDir Path emptyJvmDir) {
    Pkg.Result r = Pkg.run(noJava(emptyJvmDir), launcher.toString(), "--version");

    assertThat(r.exit()).isEqualTo(UNAVAILABLE);
    assertThat(r.out()).isEmpty();
    assertThat(r.err().split("\n"))
        .singleElement()
        .asString()
        .startsWith(
            "drainguard: no Java runtime found (looked at JAVA_HOME, PATH and " + emptyJvmDir)
        .contains("java-17-amazon-corretto-headless", "openjdk-17-jre-headless", "JAVA_HOME");
  }

  @Test
  void onlyJava11IsOneLineNamingItAndExit69(@TempDir Path jvms) {
    fakeJava11(jvms.resolve("jdk-11-fake"));
    // a runtime with a release file is read without starting it
    Path withRelease = jvms.resolve("jdk-11-release");
    fakeJava11(withRelease);
    Pkg.write(withRelease.resolve("release"), "IMPLEMENTOR=\"Fake\"\nJAVA_VERSION=\"11.0.22\"\n");

    Pkg.Result r = Pkg.run(noJava(jvms), launcher.toString(), "--version");

    assertThat(r.exit()).isEqualTo(UNAVAILABLE);
    assertThat(r.err().split("\n"))
        .singleElement()
        .asString()
        .startsWith("drainguard: Java 17 or newer is needed, found only")
        .contains("Java 11 at " + jvms.resolve("jdk-11-fake/bin/java"))
        .contains("Java 11.0.22 at " + withRelease.resolve("bin/java"));
  }

  @Test
  void anOldJavaHomeIsPassedOverForANewerJavaOnThePath(@TempDir Path old) {
    Map<String, String> env = noJava(old);
    env.put("JAVA_HOME", fakeJava11(old.resolve("jdk-11")).toString());
    env.put("PATH", Pkg.JAVA_HOME.resolve("bin") + ":/usr/bin:/bin");

    Pkg.Result r = Pkg.run(env, launcher.toString(), "--version").ok();

    assertThat(r.out()).startsWith("drainguard " + Pkg.VERSION + "\nJava ");
  }

  @Test
  void findsARuntimeUnderTheJvmDirectoryWhenNothingElseSaysWhere(@TempDir Path jvms)
      throws IOException {
    fakeJava11(jvms.resolve("a-jdk-11"));
    Files.createSymbolicLink(jvms.resolve("b-jdk"), Pkg.JAVA_HOME);

    Pkg.Result r = Pkg.run(noJava(jvms), launcher.toString(), "--version").ok();

    assertThat(r.out()).startsWith("drainguard " + Pkg.VERSION + "\nJava ");
  }

  @Test
  void anUnreadableConfigIsReportedByTheAgentWithExit78(@TempDir Path dir) {
    // As root (CI) a chmod 000 file is still readable: a directory in its place cannot be read
    // by anyone, and a missing file is the other way to get it wrong.
    for (Path config : new Path[] {dir, dir.resolve("missing.conf")}) {
      for (String[] command :
          new String[][] {
            {"status"},
            // never let 'run' reach beyond loopback, should it get past its config
            {"run", "--loopback-only=true", "--imds-endpoint=http://127.0.0.1:9"}
          }) {
        List<String> cmd = new ArrayList<>(List.of(launcher.toString()));
        cmd.addAll(List.of(command));
        cmd.addAll(List.of("--config", config.toString()));
        Pkg.Result r = Pkg.run(cmd.toArray(String[]::new));

        assertThat(r.exit())
            .as("%s --config %s: %s", command[0], config, r.err())
            .isEqualTo(CONFIG);
        assertThat(r.err().strip().split("\n"))
            .singleElement()
            .asString()
            .startsWith("drainguard: config file " + config)
            .containsAnyOf("cannot be read", "does not exist");
      }
    }
  }

  /** A runtime of this {@code JAVA_VERSION} (release file) whose java prints its arguments. */
  static Path javaPrintingItsArguments(Path dir, String version) {
    Pkg.script(dir.resolve("bin/java"), "for a in \"$@\"; do printf '%s\\n' \"$a\"; done\n");
    Pkg.write(dir.resolve("release"), "JAVA_VERSION=\"" + version + "\"\n");
    return dir;
  }

  @Test
  void theDaemonsJvmWakesTwiceAMinute_onTheRuntimesThoseOptionsWereCheckedOn(@TempDir Path jvms) {
    String unlock = "-XX:+UnlockDiagnosticVMOptions";
    String deflation = "-XX:AsyncDeflationInterval=30000";
    String safepoint = "-XX:GuaranteedSafepointInterval=60000";
    Map<String, List<String>> expected =
        Map.of(
            "17.0.15", List.of(unlock, deflation, safepoint),
            "21.0.5", List.of(unlock, deflation, safepoint),
            // 25 has no guaranteed safepoint by default: setting one would add wake-ups
            "25.0.1", List.of(unlock, deflation),
            // not checked: an option a later runtime dropped would stop the agent starting
            "26", List.of());
    for (Map.Entry<String, List<String>> e : expected.entrySet()) {
      Map<String, String> env = noJava(jvms);
      env.put(
          "JAVA_HOME", javaPrintingItsArguments(jvms.resolve(e.getKey()), e.getKey()).toString());
      for (String command : List.of("run", "status")) {
        List<String> args = Pkg.run(env, launcher.toString(), command).ok().out().lines().toList();
        List<String> jvmOptions = args.subList(0, args.indexOf("-cp"));
        List<String> wakeUps =
            jvmOptions.stream().filter(a -> a.equals(unlock) || a.contains("Interval")).toList();

        assertThat(wakeUps)
            .as("Java %s, %s: %s", e.getKey(), command, jvmOptions)
            .isEqualTo(command.equals("run") ? e.getValue() : List.of());
      }
    }
  }

  @Test
  void everyRuntimeInstalledHere_startsTheDaemonWithItsOptions(@TempDir Path dir)
      throws IOException {
    List<Path> homes = new ArrayList<>(List.of(Pkg.JAVA_HOME.toRealPath()));
    Path jvmDir = Path.of("/usr/lib/jvm");
    if (Files.isDirectory(jvmDir)) {
      try (Stream<Path> all = Files.list(jvmDir)) {
        for (Path home : all.filter(h -> Files.isExecutable(h.resolve("bin/java"))).toList()) {
          if (!homes.contains(home.toRealPath())) {
            homes.add(home.toRealPath());
          }
        }
      }
    }
    for (Path home : homes) {
      Map<String, String> env = noJava(dir);
      env.put("JAVA_HOME", home.toString());
      // the agent starts, reads its options and stops at the missing config: the JVM took its
      // options (an unknown one would have stopped it with exit 1 before)
      Pkg.Result r =
          Pkg.run(
              env,
              launcher.toString(),
              "run",
              "--loopback-only=true",
              "--imds-endpoint=http://127.0.0.1:9",
              "--config",
              dir.resolve("missing.conf").toString());

      assertThat(r.exit()).as("%s: %s", home, r.err()).isIn(CONFIG, UNAVAILABLE);
      if (r.exit() == CONFIG) {
        assertThat(r.err().strip()).as("%s", home).startsWith("drainguard: config file");
      } else {
        assertThat(r.err()).as("%s", home).contains("Java 17 or newer is needed");
      }
    }
  }

  @Test
  void missingJarsAreOneLineAndExit69(@TempDir Path copy) throws IOException {
    Path bin = Files.createDirectories(copy.resolve("usr/bin"));
    Files.copy(launcher, bin.resolve("drainguard"));

    Pkg.Result r = Pkg.run(bin.resolve("drainguard").toString(), "--version");

    assertThat(r.exit()).isEqualTo(UNAVAILABLE);
    assertThat(r.err())
        .startsWith("drainguard: the agent's jars are missing from")
        .endsWith("package\n");
  }

  @Test
  void theCdsArchiveIsWrittenForThisRuntimeUsedAndAStaleOneIsSkippedSilently(@TempDir Path r)
      throws IOException {
    Path own = Pkg.extractDeb(r);
    Path drainguard = own.resolve("usr/bin/drainguard");
    Path cache = own.resolve("var/cache/drainguard");
    Map<String, String> dump = Pkg.baseEnv();
    dump.put("DRAINGUARD_CDS", "dump");

    Pkg.Result dumped = Pkg.run(dump, drainguard.toString()).ok();

    assertThat(dumped.out()).startsWith("drainguard: class-data archive " + cache);
    Path archive;
    try (Stream<Path> files = Files.list(cache)) {
      archive = files.filter(f -> f.toString().endsWith(".jsa")).findFirst().orElseThrow();
    }
    // -Xshare:on fails the JVM when the archive cannot be mapped: proves it is used
    Map<String, String> forced = Pkg.baseEnv();
    forced.put("DRAINGUARD_JAVA_OPTS", "-Xshare:on");
    assertThat(Pkg.run(forced, drainguard.toString(), "--version").ok().err()).isEmpty();
    // run's heap settings differ from the client commands': the same archive still maps
    assertThat(Pkg.run(forced, drainguard.toString(), "run", "--help").ok().err()).isEmpty();

    // a runtime update or a damaged file: the JVM skips the archive without a word
    Files.write(archive, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
    Pkg.Result stale = Pkg.run(drainguard.toString(), "--version").ok();
    assertThat(stale.out()).startsWith("drainguard " + Pkg.VERSION + "\n");
    assertThat(stale.err()).isEmpty();

    Map<String, String> off = Pkg.baseEnv();
    off.put("DRAINGUARD_CDS", "off");
    off.put("DRAINGUARD_JAVA_OPTS", "-Xlog:cds=info:stderr");
    assertThat(Pkg.run(off, drainguard.toString(), "--version").ok().err())
        .doesNotContain(archive.toString());
  }

  @Test
  void dumpingWithoutAWritableCacheSaysSo(@TempDir Path copy) throws IOException {
    Path own = Pkg.extractDeb(copy);
    Files.delete(own.resolve("var/cache/drainguard"));
    Map<String, String> dump = Pkg.baseEnv();
    dump.put("DRAINGUARD_CDS", "dump");

    Pkg.Result r = Pkg.run(dump, own.resolve("usr/bin/drainguard").toString());

    assertThat(r.exit()).isEqualTo(73);
    assertThat(r.err()).startsWith("drainguard: cannot write the class-data archive");
  }
}
