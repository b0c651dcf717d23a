package dev.drainguard.queue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Debian's rsyslog package fetched with {@code apt-get download} and unpacked with {@code dpkg-deb
 * -x} into the build directory: never installed, never run as a service. The download and the
 * unpacked tree are kept under {@code cacheDir}, so only the first run (or the first after {@code
 * mvn clean}) fetches anything.
 */
final class RsyslogPackage {

  /**
   * Libraries rsyslogd links against ({@code apt-cache depends rsyslog} on Debian 12) that a bare
   * machine may lack; each is downloaded only if dpkg does not list it as installed. liblognorm5 is
   * left out: only mmnormalize/pmnormalize use it and the fixture loads neither.
   */
  static final List<String> LIBRARIES =
      List.of("libestr0", "libfastjson4", "libsystemd0", "libuuid1", "libzstd1", "zlib1g");

  /** Bound for one apt-get download: a few hundred kB from the package mirror. */
  static final Duration DOWNLOAD_TIMEOUT = Duration.ofMinutes(3);

  /** Bound for dpkg-deb, dpkg-query and {@code rsyslogd -v}: local and fast. */
  static final Duration TOOL_TIMEOUT = Duration.ofSeconds(30);

  private static final String MARKER = ".unpacked";

  /** Where the unpacked daemon lives and the environment it needs. */
  record Unpacked(Path rsyslogd, Path moduleDir, String libraryPath, String version) {
    Map<String, String> env() {
      return Map.of("LD_LIBRARY_PATH", libraryPath);
    }
  }

  /** rsyslog cannot be had on this machine; the message says why. */
  static final class UnavailableException extends Exception {
    UnavailableException(String reason) {
      super(reason);
    }
  }

  private static Unpacked cached;
  private static UnavailableException failed;

  private RsyslogPackage() {}

  /** The unpacked package under {@code cacheDir}, fetching and unpacking it on first use. */
  static synchronized Unpacked obtain(Path cacheDir) throws UnavailableException {
    if (cached == null && failed == null) {
      try {
        cached = fetchAndCheck(cacheDir.toAbsolutePath());
      } catch (UnavailableException e) {
        failed = e; // one attempt per test run, not one per test
      }
    }
    if (failed != null) {
      throw failed;
    }
    return cached;
  }

  private static Unpacked fetchAndCheck(Path cacheDir) throws UnavailableException {
    Path root = cacheDir.resolve("root");
    try {
      if (!Files.exists(root.resolve(MARKER))) {
        unpack(download(Files.createDirectories(cacheDir.resolve("debs"))), cacheDir, root);
      }
      Path rsyslogd = root.resolve("usr/sbin/rsyslogd");
      Path imtcp = find(root.resolve("usr/lib"), "imtcp.so");
      Path moduleDir = imtcp.getParent();
      List<String> libs = new ArrayList<>();
      libs.add(moduleDir.getParent().toString());
      Path lib = root.resolve("lib").resolve(moduleDir.getParent().getFileName());
      if (Files.isDirectory(lib)) {
        libs.add(lib.toString());
      }
      String libraryPath = String.join(":", libs);
      Map<String, String> env = Map.of("LD_LIBRARY_PATH", libraryPath);
      Run v = run(cacheDir, TOOL_TIMEOUT, env, rsyslogd.toString(), "-v");
      if (v.code != 0) {
        throw new UnavailableException(
            "the unpacked rsyslogd does not run (" + rsyslogd + " -v): " + v.output);
      }
      String version =
          v.output.lines().findFirst().orElse("rsyslogd").replace("compiled with:", "").strip();
      return new Unpacked(rsyslogd, moduleDir, libraryPath, version);
    } catch (IOException e) {
      throw new UnavailableException("rsyslog package under " + cacheDir + ": " + e);
    }
  }

  private static List<Path> download(Path debs) throws IOException, UnavailableException {
    List<String> wanted = new ArrayList<>(List.of("rsyslog"));
    for (String library : LIBRARIES) {
      Run q = run(debs, TOOL_TIMEOUT, Map.of(), "dpkg-query", "-W", "-f=${Status}", library);
      if (q.code != 0 || !q.output.contains("install ok installed")) {
        wanted.add(library);
      }
    }
    List<Path> files = new ArrayList<>();
    for (String pkg : wanted) {
      Optional<Path> have = deb(debs, pkg);
      if (have.isEmpty()) {
        Run d = run(debs, DOWNLOAD_TIMEOUT, Map.of(), "apt-get", "download", "-q", pkg);
        have = deb(debs, pkg);
        if (d.code != 0 || have.isEmpty()) {
          throw new UnavailableException(
              "apt-get download "
                  + pkg
                  + " failed (exit "
                  + d.code
                  + "; the package lists may need apt-get update): "
                  + d.output.strip());
        }
      }
      files.add(have.get());
    }
    return files;
  }

  private static void unpack(List<Path> debs, Path cacheDir, Path root)
      throws IOException, UnavailableException {
    Path partial = cacheDir.resolve("root.partial");
    deleteTree(partial);
    deleteTree(root);
    Files.createDirectories(partial);
    for (Path deb : debs) {
      Run x =
          run(
              cacheDir,
              TOOL_TIMEOUT,
              Map.of(),
              "dpkg-deb",
              "-x",
              deb.toString(),
              partial.toString());
      if (x.code != 0) {
        throw new UnavailableException("dpkg-deb -x " + deb + " failed: " + x.output.strip());
      }
    }
    Files.writeString(partial.resolve(MARKER), debs.toString() + "\n");
    Files.move(partial, root);
  }

  private static Optional<Path> deb(Path debs, String pkg) throws IOException {
    try (Stream<Path> s = Files.list(debs)) {
      return s.filter(p -> p.getFileName().toString().startsWith(pkg + "_"))
          .filter(p -> p.getFileName().toString().endsWith(".deb"))
          .findFirst();
    }
  }

  private static Path find(Path under, String name) throws IOException, UnavailableException {
    try (Stream<Path> s = Files.walk(under)) {
      return s.filter(p -> p.getFileName().toString().equals(name))
          .findFirst()
          .orElseThrow(() -> new UnavailableException(name + " not found under " + under));
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private record Run(int code, String output) {}

  /** Runs a tool; a tool that is missing or hangs is a reason to skip, not a test failure. */
  private static Run run(Path dir, Duration timeout, Map<String, String> env, String... command)
      throws UnavailableException {
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
    pb.redirectErrorStream(true);
    pb.environment().putAll(env);
    pb.environment().put("LC_ALL", "C");
    try {
      Path out = Files.createTempFile("rsyslog-package", ".out");
      try {
        Process p = pb.redirectOutput(out.toFile()).start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          p.destroyForcibly();
          throw new UnavailableException(
              String.join(" ", command) + " did not finish within " + timeout);
        }
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
      } finally {
        Files.deleteIfExists(out);
      }
    } catch (IOException e) {
      throw new UnavailableException(String.join(" ", command) + " cannot run: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UnavailableException(String.join(" ", command) + " interrupted");
    }
  }
}
