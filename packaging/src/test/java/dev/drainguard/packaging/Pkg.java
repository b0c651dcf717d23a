package dev.drainguard.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/** What the package tests share: the built packages, the staged tree, and running commands. */
final class Pkg {

  static final Path RPM = Path.of(System.getProperty("drainguard.rpm", "target/missing.rpm"));
  static final Path DEB = Path.of(System.getProperty("drainguard.deb", "target/missing.deb"));
  static final String VERSION = System.getProperty("drainguard.version", "0.1.0");
  static final String RELEASE = System.getProperty("drainguard.release", "1");

  /** The sources of the packaged files and scripts (the tests run in the module's directory). */
  static final Path SOURCES = Path.of("src/main");

  /** The installed tree as the build staged it, before packaging. */
  static final Path STAGED = Path.of("target/root");

  /** This machine's Java runtime: the one the installed launcher is pointed at. */
  static final Path JAVA_HOME = Path.of(System.getProperty("java.home"));

  /** A command that must end well within this; every call is bounded. */
  static final long COMMAND_TIMEOUT_SECONDS = 120;

  private Pkg() {}

  /** The exit code and output of a finished command. */
  record Result(int exit, String out, String err) {
    List<String> lines() {
      return out.isEmpty() ? List.of() : Arrays.asList(out.split("\n"));
    }

    Result ok() {
      assertThat(exit).as("exit code; stderr: %s", err).isZero();
      return this;
    }
  }

  /** Runs {@code cmd} with the given environment only (nothing inherited). */
  static Result run(Map<String, String> env, String... cmd) {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().clear();
    pb.environment().putAll(env);
    try {
      Path out = Files.createTempFile("pkg-out", ".txt");
      Path err = Files.createTempFile("pkg-err", ".txt");
      try {
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new AssertionError("timed out after " + COMMAND_TIMEOUT_SECONDS + "s: " + cmd[0]);
        }
        return new Result(
            p.exitValue(),
            Files.readString(out, StandardCharsets.UTF_8),
            Files.readString(err, StandardCharsets.UTF_8));
      } finally {
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("running " + String.join(" ", cmd), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted running " + cmd[0], e);
    }
  }

  /** Runs {@code cmd} with a plain system PATH and this JVM's runtime as JAVA_HOME. */
  static Result run(String... cmd) {
    return run(baseEnv(), cmd);
  }

  /** PATH of the system directories, JAVA_HOME of this JVM, a neutral locale. */
  static Map<String, String> baseEnv() {
    Map<String, String> env = new HashMap<>();
    env.put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    env.put("JAVA_HOME", JAVA_HOME.toString());
    env.put("LC_ALL", "C");
    return env;
  }

  /**
   * Skips the calling test, saying why, when {@code tool} is missing on a developer's machine;
   * fails when it is missing in CI, whose .ci/run installs it.
   */
  static void requireTool(String tool) {
    boolean found =
        Arrays.stream(System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":"))
            .anyMatch(d -> Files.isExecutable(Path.of(d, tool)));
    if (!found && "true".equals(System.getenv("CI"))) {
      throw new AssertionError(tool + " is missing in CI: .ci/run should have installed it");
    }
    Assumptions.assumeTrue(
        found, "SKIPPED: " + tool + " is not installed here (.ci/run installs it in CI)");
  }

  /** Unpacks the DEB's files into {@code dir} (dpkg-deb -x), as an install would lay them. */
  static Path extractDeb(Path dir) {
    requireTool("dpkg-deb");
    run("dpkg-deb", "-x", DEB.toString(), dir.toString()).ok();
    return dir;
  }

  /** The jar names on the launcher's class path, in order, from the staged launcher. */
  static List<String> launcherJars() {
    String launcher = read(STAGED.resolve("usr/bin/drainguard"));
    Matcher m = Pattern.compile("(?m)^classpath=\"([^\"]*)\"$").matcher(launcher);
    assertThat(m.find()).as("classpath= line in the launcher").isTrue();
    List<String> jars = new ArrayList<>();
    for (String entry : m.group(1).split(":")) {
      assertThat(entry).startsWith("$lib/");
      jars.add(entry.substring("$lib/".length()));
    }
    return jars;
  }

  /**
   * {@code script} without its comment lines, the first (#!) excepted: the copy of install.sh that
   * userdata/embed.sh puts into the user data (EC2 takes at most 16 KiB).
   */
  static String uncommented(String script) {
    StringBuilder b = new StringBuilder();
    String[] lines = script.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      if (i == 0 || !lines[i].strip().startsWith("#")) {
        b.append(lines[i]).append(i < lines.length - 1 ? "\n" : "");
      }
    }
    return b.toString();
  }

  static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Path write(Path file, String text) {
    try {
      Files.createDirectories(file.getParent());
      return Files.writeString(file, text, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes an executable shell script. */
  static Path script(Path file, String body) {
    write(file, "#!/bin/sh\n" + body);
    if (!file.toFile().setExecutable(true, false)) {
      throw new AssertionError("cannot make " + file + " executable");
    }
    return file;
  }
}
