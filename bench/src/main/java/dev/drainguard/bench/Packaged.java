package dev.drainguard.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The agent as packaged: a copy of the tree the packaging module stages for the RPM and DEB ({@code
 * packaging/target/root}), run through its own launcher {@code usr/bin/drainguard}, with the
 * class-data archive written the way the package's install step writes it ({@code
 * DRAINGUARD_CDS=dump}).
 */
final class Packaged {

  private final Path root;
  private final Path launcher;

  private Packaged(Path root) {
    this.root = root;
    this.launcher = root.resolve("usr/bin/drainguard");
  }

  /** Copies the staged tree to {@code work/pkg} and writes its CDS archive. */
  static Packaged install(Path staged, Path work) throws IOException, InterruptedException {
    if (!Files.isExecutable(staged.resolve("usr/bin/drainguard"))) {
      throw new IllegalStateException(
          "no packaged launcher at " + staged + "/usr/bin/drainguard: build the packaging module");
    }
    Path root = work.resolve("pkg");
    deleteTree(root);
    try (Stream<Path> paths = Files.walk(staged)) {
      for (Path p : paths.toList()) {
        Path to = root.resolve(staged.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(to);
        } else {
          Files.copy(p, to, StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
    Files.createDirectories(root.resolve("var/cache/drainguard"));
    Packaged pkg = new Packaged(root);
    ProcessBuilder pb = new ProcessBuilder(pkg.launcher.toString());
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.environment().put("DRAINGUARD_CDS", "dump");
    Process dump =
        pb.redirectErrorStream(true).redirectOutput(work.resolve("cds-dump.log").toFile()).start();
    if (!dump.waitFor(120, TimeUnit.SECONDS) || dump.exitValue() != 0) {
      throw new IllegalStateException(
          "DRAINGUARD_CDS=dump failed; see " + work.resolve("cds-dump.log"));
    }
    return pkg;
  }

  Path launcher() {
    return launcher;
  }

  /**
   * The JVM options and environment the launcher gives {@code command}: read by running it with a
   * stand-in {@code java} that prints what it was given. No CDS archive matches the stand-in, so
   * the list has none (the baseline JVM could not use the agent's archive anyway).
   */
  LaunchOptions launchOptions(String command, Path work) throws IOException, InterruptedException {
    Path fake = Files.createDirectories(work.resolve("java-stand-in/bin"));
    Path java = fake.resolve("java");
    Files.writeString(
        java,
        "#!/bin/sh\n"
            + "printf 'MALLOC_ARENA_MAX=%s\\n' \"${MALLOC_ARENA_MAX:-}\"\n"
            + "for a in \"$@\"; do printf '%s\\n' \"$a\"; done\n");
    Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.writeString(fake.getParent().resolve("release"), "JAVA_VERSION=\"17\"\n");
    ProcessBuilder pb = new ProcessBuilder(launcher.toString(), command);
    pb.environment().put("JAVA_HOME", fake.getParent().toString());
    pb.environment().remove("DRAINGUARD_JAVA_OPTS");
    pb.environment().remove("MALLOC_ARENA_MAX");
    Process p = pb.redirectErrorStream(true).start();
    List<String> lines = new String(p.getInputStream().readAllBytes()).lines().toList();
    p.waitFor(30, TimeUnit.SECONDS);
    String arenas = lines.get(0).substring("MALLOC_ARENA_MAX=".length());
    List<String> options = new ArrayList<>();
    for (String arg : lines.subList(1, lines.size())) {
      if (arg.equals("-cp")) {
        break; // then the class path, the main class and the command
      }
      options.add(arg);
    }
    return new LaunchOptions(options, arenas);
  }

  /** What the launcher passes to {@code java} before the class path, and its malloc setting. */
  record LaunchOptions(List<String> jvmOptions, String mallocArenaMax) {
    void applyTo(Map<String, String> env) {
      if (!mallocArenaMax.isEmpty()) {
        env.put("MALLOC_ARENA_MAX", mallocArenaMax);
      }
    }

    /** These options without any that starts with one of {@code prefixes}. */
    LaunchOptions without(List<String> prefixes) {
      return new LaunchOptions(
          jvmOptions.stream().filter(o -> prefixes.stream().noneMatch(o::startsWith)).toList(),
          mallocArenaMax);
    }
  }

  static void deleteTree(Path top) throws IOException {
    if (!Files.exists(top)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(top)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        try {
          Files.delete(p);
        } catch (IOException e) {
          throw new UncheckedIOException("deleting " + p, e);
        }
      }
    }
  }
}
