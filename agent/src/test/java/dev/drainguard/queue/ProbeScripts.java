package dev.drainguard.queue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The shipped command probes ({@code probes/} at the top of the repository) and a way to run them.
 */
public final class ProbeScripts {

  /** Bound for one probe run; the scripts read a directory listing and one small file. */
  static final Duration RUN_TIMEOUT = Duration.ofSeconds(20);

  /** What a probe printed and how it exited. */
  public record Result(int code, String stdout, String stderr) {
    /** The one integer a successful probe prints. */
    public long bytes() {
      if (code != 0) {
        throw new AssertionError("probe exited " + code + ": " + stderr);
      }
      return Long.parseLong(stdout.strip());
    }
  }

  private ProbeScripts() {}

  /** The script {@code probes/<name>}, found from the working directory upwards. */
  public static Path script(String name) {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("probes").resolve(name);
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    throw new IllegalStateException(
        "probes/" + name + " not found above " + Path.of("").toAbsolutePath());
  }

  /** {@code argv} quoted for {@code /bin/sh -c}, the way the agent runs a probe command. */
  public static String shellLine(List<String> argv) {
    List<String> quoted = new ArrayList<>();
    for (String a : argv) {
      quoted.add("'" + a.replace("'", "'\\''") + "'");
    }
    return String.join(" ", quoted);
  }

  public static Result run(List<String> argv) {
    try {
      Path out = Files.createTempFile("probe", ".out");
      Path err = Files.createTempFile("probe", ".err");
      try {
        Process p =
            new ProcessBuilder(argv)
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        if (!p.waitFor(RUN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
          p.destroyForcibly();
          throw new AssertionError(argv + " did not finish within " + RUN_TIMEOUT);
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
      throw new UncheckedIOException("running " + argv, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted running " + argv, e);
    }
  }
}
