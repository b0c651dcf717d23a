package dev.drainguard.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * The class-data archive that makes the control commands start at once: {@code DRAINGUARD_CDS=dump}
 * (and the package's install step) writes a dynamic CDS archive on Java 17 and an AOT cache on Java
 * 25, from a training run of real exchanges; {@code drainguard status} against the installed agent
 * running on the simulator then loads its own classes from it, and with {@code DRAINGUARD_CDS=off}
 * does not. The agent runs on this JVM's runtime (Java 17); the clients run on Java 17 and on a
 * Java 25 found under /usr/lib/jvm (the Java 25 tests are skipped, saying so, when there is none).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClassDataArchiveIT {

  /** Classes every {@code status} call loads, the client's own: the command and the socket. */
  static final List<String> CLIENT_CLASSES =
      List.of(
          "dev.drainguard.cli.LeanArgs",
          "dev.drainguard.cli.ControlCalls",
          "dev.drainguard.status.ControlClient",
          "dev.drainguard.status.ControlJson");

  /** How the JVM's class+load log names a class read from a CDS archive or an AOT cache. */
  static final String FROM_ARCHIVE = "source: shared objects file";

  @TempDir static Path root;
  @TempDir static Path work;
  static InstalledAgent installed;
  static Path cache;

  @BeforeAll
  static void startTheInstalledAgent() {
    installed = new InstalledAgent(root, work);
    cache = root.resolve("var/cache/drainguard");
    installed.start();
    installed.awaitStatus(0);
  }

  @AfterAll
  static void stop() throws InterruptedException {
    if (installed != null) {
      installed.close();
    }
  }

  /** A Java 25 or newer under /usr/lib/jvm, by its release file; the test is skipped without. */
  static Path java25() {
    Optional<Path> found = findJava25();
    Assumptions.assumeTrue(found.isPresent(), NO_JAVA_25);
    return found.get();
  }

  static final String NO_JAVA_25 =
      "SKIPPED: no Java 25 or newer under /usr/lib/jvm to dump an AOT cache with";

  static Optional<Path> findJava25() {
    try (Stream<Path> homes = Files.list(Path.of("/usr/lib/jvm"))) {
      return homes
          .filter(h -> Files.isExecutable(h.resolve("bin/java")))
          .filter(h -> feature(h) >= 25)
          .sorted()
          .findFirst();
    } catch (IOException e) {
      return Optional.empty(); // no /usr/lib/jvm: no Java 25
    }
  }

  static int feature(Path home) {
    Path release = home.resolve("release");
    if (!Files.isReadable(release)) {
      return 0;
    }
    Matcher m = Pattern.compile("(?m)^JAVA_VERSION=\"(\\d+)").matcher(Pkg.read(release));
    return m.find() ? Integer.parseInt(m.group(1)) : 0;
  }

  /** The agent's environment (its config names the socket), with the client's runtime. */
  static Map<String, String> env(Path javaHome) {
    Map<String, String> env = new HashMap<>(installed.env);
    env.put("JAVA_HOME", javaHome.toString());
    return env;
  }

  /**
   * Writes the archive for {@code javaHome}, first planting a stale file of the other kind and of
   * an older build of that runtime: the dump leaves exactly one archive for the runtime.
   */
  static Path dump(Path javaHome, String kind, String otherKind) throws IOException {
    String home = javaHome.toRealPath().toString().replaceAll("[^A-Za-z0-9._+-]", "_");
    Path staleBuild = Pkg.write(cache.resolve(home + "=0.0.1-old." + kind), "old build");
    Path otherKindFile = Pkg.write(cache.resolve(home + "=0.0.1-old." + otherKind), "other kind");
    Map<String, String> env = env(javaHome);
    env.put("DRAINGUARD_CDS", "dump");

    Pkg.Result r = Pkg.run(env, installed.launcher().toString()).ok();

    assertThat(r.out()).startsWith("drainguard: class-data archive " + cache.resolve(home));
    Path archive = Path.of(r.out().strip().split(" ")[3]);
    assertThat(archive.getFileName().toString()).endsWith("." + kind);
    assertThat(Files.size(archive)).isPositive();
    try (Stream<Path> files = Files.list(cache)) {
      assertThat(files.map(f -> f.getFileName().toString()))
          .filteredOn(f -> f.startsWith(home + "=") || f.startsWith(".dump."))
          .as("the archives of %s after the dump", javaHome)
          .containsExactly(archive.getFileName().toString());
    }
    assertThat(staleBuild).doesNotExist();
    assertThat(otherKindFile).doesNotExist();
    return archive;
  }

  /**
   * A training that cannot run (here: its temporary directory cannot be made) fails the dump,
   * saying why, and leaves no archive: the JVM writes one at exit all the same, which would hold
   * only the failure.
   */
  @Test
  @Order(0)
  void aFailedTrainingFailsTheDumpSayingWhyAndLeavesNoArchive() throws IOException {
    Map<String, String> env = env(Pkg.JAVA_HOME);
    env.put("DRAINGUARD_CDS", "dump");
    env.put("JAVA_TOOL_OPTIONS", "-Djava.io.tmpdir=" + work.resolve("no-such-directory"));

    Pkg.Result r = Pkg.run(env, installed.launcher().toString());

    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err())
        .contains("drainguard: archive training: cannot train in a temporary directory")
        .contains("drainguard: no class-data archive written for Java")
        .contains("(training exited 1)");
    assertThat(cacheFiles()).isEmpty();
  }

  /** Runs {@code drainguard status} with class loading logged; the log's lines. */
  static List<String> statusLoading(Map<String, String> env, String name) {
    Path log = work.resolve("class-load-" + name + ".log");
    env.put("DRAINGUARD_JAVA_OPTS", "-Xlog:class+load=info:file=" + log);

    Pkg.Result r = Pkg.run(env, installed.launcher().toString(), "status");

    assertThat(r.exit()).as("status exit code; stderr: %s", r.err()).isZero();
    assertThat(r.out()).contains("phase         IN_SERVICE");
    // an archive that fits, or none: not a word from the JVM
    assertThat(r.err()).isEmpty();
    return Pkg.read(log).lines().toList();
  }

  /** The class+load line of {@code className}. */
  static String loaded(List<String> log, String className) {
    return log.stream()
        .filter(l -> l.contains("] " + className + " source: "))
        .findFirst()
        .orElseThrow(() -> new AssertionError(className + " was not loaded by status"));
  }

  /**
   * The client's drainguard classes that were not read from the archive, leaving out those the JVM
   * cannot archive: hidden classes (lambdas), and classes with a picocli type among their
   * supertypes (picocli's class files are version 49, which neither CDS nor the AOT cache takes;
   * the dump skips every class linked against one).
   */
  static List<String> notFromArchive(List<String> log) {
    Pattern line = Pattern.compile("\\] (dev\\.drainguard\\.\\S+) source: (.*)$");
    List<String> missed = new ArrayList<>();
    for (String l : log) {
      Matcher m = line.matcher(l);
      if (m.find()
          && !m.group(2).startsWith(FROM_ARCHIVE.substring("source: ".length()))
          && !m.group(1).contains("$$Lambda")
          && !extendsPicocli(m.group(1))) {
        missed.add(m.group(1) + " from " + m.group(2));
      }
    }
    return missed;
  }

  static boolean extendsPicocli(String className) {
    Class<?> c;
    try {
      c = Class.forName(className, false, ClassDataArchiveIT.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new AssertionError("the agent's class " + className + " is not on the test's path", e);
    }
    List<Class<?>> types = new ArrayList<>(List.of(c));
    for (int i = 0; i < types.size(); i++) {
      Class<?> t = types.get(i);
      if (t.getName().startsWith("picocli.")) {
        return true;
      }
      if (t.getSuperclass() != null) {
        types.add(t.getSuperclass());
      }
      types.addAll(List.of(t.getInterfaces()));
    }
    return false;
  }

  void statusUsesTheArchiveAndNotWithCdsOff(Path javaHome, String kind, String otherKind)
      throws IOException {
    Path archive = dump(javaHome, kind, otherKind);

    List<String> withArchive = statusLoading(env(javaHome), kind);
    for (String c : CLIENT_CLASSES) {
      assertThat(loaded(withArchive, c)).contains(FROM_ARCHIVE);
    }
    List<String> missed = notFromArchive(withArchive);
    System.out.printf(
        "status on %s with %s: drainguard classes not from the archive: %s%n",
        javaHome, archive.getFileName(), missed);
    assertThat(missed).as("the client's drainguard classes not read from %s", archive).isEmpty();

    Map<String, String> off = env(javaHome);
    off.put("DRAINGUARD_CDS", "off");
    List<String> without = statusLoading(off, kind + "-off");
    for (String c : CLIENT_CLASSES) {
      assertThat(loaded(without, c)).doesNotContain(FROM_ARCHIVE).contains("drainguard-agent");
    }
  }

  @Test
  @Order(1)
  void java17_statusLoadsItsClassesFromTheCdsArchive() throws IOException {
    statusUsesTheArchiveAndNotWithCdsOff(Pkg.JAVA_HOME, "jsa", "aot");
  }

  @Test
  @Order(2)
  void java25_statusLoadsItsClassesFromTheAotCache() throws IOException {
    statusUsesTheArchiveAndNotWithCdsOff(java25(), "aot", "jsa");
  }

  /**
   * -XX:AOTMode=on makes the JVM fail when the cache cannot be used: it is used for both heap
   * profiles. A damaged or mismatched cache must never stop a command, nor print a word (the JVM
   * prints errors for one by default).
   */
  @Test
  @Order(3)
  void java25_theCacheFitsEveryCommandAndAMismatchedOrDamagedOneIsSkippedSilently()
      throws IOException {
    Path java25 = java25();
    Path archive = dump(java25, "aot", "jsa");
    Map<String, String> forced = env(java25);
    forced.put("DRAINGUARD_JAVA_OPTS", "-XX:AOTMode=on");
    Path launcher = installed.launcher();
    assertThat(Pkg.run(forced, launcher.toString(), "--version").ok().err()).isEmpty();
    assertThat(Pkg.run(forced, launcher.toString(), "run", "--help").ok().err()).isEmpty();
    Pkg.Result status = Pkg.run(forced, launcher.toString(), "status");
    assertThat(status.exit()).as(status.err()).isZero();

    // the agent's jar changed after the dump (an upgrade whose dump has not run yet): Java 25.0.3
    // maps such a cache and would load the old version's classes, so the launcher names the
    // archive after the jar too and does not find the old one: the classes come from the jar
    Path jar = root.resolve("usr/share/drainguard/lib").resolve(agentJar());
    Files.setLastModifiedTime(
        jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 1000));
    List<String> afterUpgrade = statusLoading(env(java25), "aot-upgraded");
    for (String c : CLIENT_CLASSES) {
      assertThat(loaded(afterUpgrade, c)).doesNotContain(FROM_ARCHIVE).contains("drainguard-agent");
    }

    Path rewritten = dump(java25, "aot", "jsa");
    assertThat(rewritten).isNotEqualTo(archive); // named after the jar as it is now
    Files.write(rewritten, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
    skippedSilently(java25, forced);
  }

  static String agentJar() {
    return Pkg.launcherJars().stream()
        .filter(j -> j.startsWith("drainguard-agent"))
        .findFirst()
        .orElseThrow();
  }

  /** {@code status} works without a word; the same cache is refused where it must be used. */
  static void skippedSilently(Path java25, Map<String, String> forced) {
    Path launcher = installed.launcher();
    Pkg.Result r = Pkg.run(env(java25), launcher.toString(), "status");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("phase         IN_SERVICE");
    assertThat(r.err()).isEmpty();
    // proves the cache was seen not to fit, rather than not looked at
    Pkg.Result refused = Pkg.run(forced, launcher.toString(), "--version");
    assertThat(refused.exit()).isNotZero();
    assertThat(refused.out() + refused.err()).contains("Unable to use AOT cache");
  }

  /**
   * The package's own steps with the real launcher, systemd and the account database faked: install
   * writes the archive for the runtime the launcher picks, CDS on Java 17, an AOT cache on Java 25;
   * removal drops both kinds.
   */
  @Test
  @Order(4)
  void maintainerInstallWritesTheArchiveOfEachRuntimeAndRemoveDropsThem() throws IOException {
    Path fakes = Files.createDirectories(work.resolve("maintainer-fakes"));
    Pkg.script(
        fakes.resolve("systemctl"),
        "case \"$1\" in is-system-running) echo running ;; is-active) echo inactive; exit 3 ;;"
            + " esac\n");
    for (String tool : new String[] {"getent", "groupadd", "useradd"}) {
      Pkg.script(fakes.resolve(tool), "exit 0\n");
    }
    clearCache();
    List<Path> homes = new ArrayList<>(List.of(Pkg.JAVA_HOME));
    findJava25().ifPresentOrElse(homes::add, () -> System.out.println(NO_JAVA_25));
    Path maintainer = root.resolve("usr/libexec/drainguard/maintainer");
    for (Path home : homes) {
      Map<String, String> env = env(home);
      env.put("PATH", fakes + ":/usr/bin:/bin");
      Pkg.Result r = Pkg.run(env, maintainer.toString(), "install").ok();
      assertThat(r.err()).doesNotContain("warning");
    }
    List<String> written = cacheFiles();
    assertThat(written).anyMatch(f -> f.endsWith(".jsa"));
    assertThat(written)
        .hasSize(homes.size())
        .allMatch(f -> f.endsWith(".jsa") || f.endsWith(".aot"));
    if (homes.size() == 2) {
      assertThat(written).anyMatch(f -> f.endsWith(".aot"));
    }

    Map<String, String> env = env(Pkg.JAVA_HOME);
    env.put("PATH", fakes + ":/usr/bin:/bin");
    // the agent says it is in service: removal goes ahead and drops the archives
    Pkg.run(env, maintainer.toString(), "remove").ok();
    assertThat(cacheFiles()).isEmpty();
  }

  /** Runs of {@code status} per runtime and setting in {@link #statusWallTime()}. */
  static final int RUNS = 10;

  /**
   * Prints the median wall time of {@code drainguard status} against the running agent, with and
   * without the archive, on Java 17 and Java 25 (no assertion on time: the machine is shared). Runs
   * only with {@code -Ddrainguard.measure=true}.
   */
  @Test
  @Order(5)
  @EnabledIfSystemProperty(named = "drainguard.measure", matches = "true")
  void statusWallTime() throws IOException {
    List<Path> homes = new ArrayList<>(List.of(Pkg.JAVA_HOME));
    findJava25().ifPresent(homes::add);
    for (Path home : homes) {
      boolean aot = feature(home) >= 25;
      dump(home, aot ? "aot" : "jsa", aot ? "jsa" : "aot");
      Map<String, String> with = env(home);
      Map<String, String> off = env(home);
      off.put("DRAINGUARD_CDS", "off");
      Pkg.run(with, installed.launcher().toString(), "status").ok(); // unmeasured, warms the cache
      long[] withMs = new long[RUNS];
      long[] offMs = new long[RUNS];
      for (int i = 0; i < RUNS; i++) { // interleaved, so that a busy moment hits both
        withMs[i] = timedStatus(with);
        offMs[i] = timedStatus(off);
      }
      System.out.printf(
          "status wall time on %s, median of %d: with the %s %d ms %s, DRAINGUARD_CDS=off %d ms"
              + " %s%n",
          home,
          RUNS,
          aot ? "AOT cache" : "CDS archive",
          median(withMs),
          Arrays.toString(withMs),
          median(offMs),
          Arrays.toString(offMs));
    }
  }

  static long timedStatus(Map<String, String> env) {
    long start = System.nanoTime();
    Pkg.run(env, installed.launcher().toString(), "status").ok();
    return (System.nanoTime() - start) / 1_000_000;
  }

  static long median(long[] ms) {
    long[] sorted = ms.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  static List<String> cacheFiles() throws IOException {
    try (Stream<Path> files = Files.list(cache)) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }

  static void clearCache() throws IOException {
    try (Stream<Path> files = Files.list(cache)) {
      for (Path f : files.toList()) {
        Files.delete(f);
      }
    }
  }
}
