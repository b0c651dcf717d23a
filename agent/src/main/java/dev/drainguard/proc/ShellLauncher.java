package dev.drainguard.proc;

import dev.drainguard.proc.Isolation.Capabilities;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs an operator's shell command ({@code /bin/sh -c}) in bounded time, apart from the agent: a
 * minimal environment, a process group of its own and (for operator commands) no ambient
 * capability; see {@link Isolation}. When the command exits or is killed at its timeout, every
 * process left in its group is killed too, so a background child ({@code sleep 60 & echo 0}) can
 * neither outlive it nor hold anything open.
 *
 * <p>Its output goes to files, not pipes, and is read once the command is over: reading it never
 * waits on a process that kept a pipe open, needs no thread, and leaves no descriptor behind.
 */
public final class ShellLauncher {

  private static final Logger log = LoggerFactory.getLogger(ShellLauncher.class);

  /** The only variables a command inherits from the agent's environment. */
  public static final List<String> INHERITED = List.of("PATH", "LANG");

  /** PATH when the agent has none (systemd gives services one; a bare exec may not). */
  static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  /** After the kill, how long to wait for the shell to be gone before reporting anyway. */
  static final Duration KILL_WAIT = Duration.ofSeconds(2);

  private static final Map<Capabilities, ShellLauncher> FOR_AGENT =
      new EnumMap<>(Capabilities.class);

  /** What a command wrote to one stream: the first bytes kept, and how many it wrote in all. */
  public record Output(String text, long bytes, boolean truncated) {
    static final Output NONE = new Output("", 0, false);
  }

  /**
   * @param exitCode the shell's exit code; -1 when it was killed at its timeout
   * @param timedOut whether it was killed at its timeout
   * @param stderr empty when stderr was merged into stdout
   */
  public record Result(int exitCode, boolean timedOut, Output stdout, Output stderr) {}

  private final Map<String, String> agentEnvironment;
  private final Isolation isolation;

  /**
   * @param agentEnvironment the environment the agent runs with: only {@link #INHERITED} is passed
   * @param isolation how commands are started; see {@link Isolation}
   */
  public ShellLauncher(Map<String, String> agentEnvironment, Isolation isolation) {
    this.agentEnvironment = Map.copyOf(agentEnvironment);
    this.isolation = isolation;
  }

  /**
   * The launcher for this agent's process, found once per capability choice: the environment it
   * started with (as {@link ProcessBuilder} inherits it) and what this host allows.
   */
  public static synchronized ShellLauncher forAgent(Capabilities caps) {
    return FOR_AGENT.computeIfAbsent(
        caps,
        c -> {
          ShellLauncher l = detect(new ProcessBuilder().environment(), c);
          String what = l.isolation.description();
          if (l.isolation.ownGroup() && !what.contains("KEPT")) {
            log.info("commands run with capabilities={} isolation=\"{}\"", c, what);
          } else {
            log.warn("commands run with capabilities={} isolation=\"{}\"", c, what);
          }
          return l;
        });
  }

  /**
   * A launcher for an agent whose environment is {@code agentEnvironment}, with what this host
   * allows (setsid, setpriv, kill) found now.
   */
  public static ShellLauncher detect(Map<String, String> agentEnvironment, Capabilities caps) {
    return new ShellLauncher(
        agentEnvironment, Isolation.detect(caps, minimal(agentEnvironment, Map.of())));
  }

  public Isolation isolation() {
    return isolation;
  }

  /** The whole environment a command gets: {@link #INHERITED} plus {@code given}. */
  public Map<String, String> environment(Map<String, String> given) {
    return minimal(agentEnvironment, given);
  }

  static Map<String, String> minimal(Map<String, String> agent, Map<String, String> given) {
    Map<String, String> env = new TreeMap<>();
    env.put("PATH", agent.getOrDefault("PATH", DEFAULT_PATH));
    if (agent.containsKey("LANG")) {
      env.put("LANG", agent.get("LANG"));
    }
    env.putAll(given);
    return env;
  }

  /**
   * Runs {@code command} until it exits or {@code timeout} passes, then kills whatever is left of
   * its process group and returns what it wrote (at most {@code keepBytes} of each stream).
   *
   * @param mergeStderr whether stderr goes to the same file as stdout
   * @throws IOException when it cannot be started (or its output files cannot be made)
   * @throws InterruptedException when interrupted; the command's group is killed first
   */
  public Result run(
      String command,
      Map<String, String> given,
      Duration timeout,
      boolean mergeStderr,
      int keepBytes)
      throws IOException, InterruptedException {
    Path out = outputFile();
    Path err = null;
    try {
      List<String> argv = new ArrayList<>(isolation.prefix());
      argv.addAll(List.of("/bin/sh", "-c", command));
      ProcessBuilder pb = new ProcessBuilder(argv);
      pb.environment().clear();
      pb.environment().putAll(environment(given));
      pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
      pb.redirectOutput(out.toFile());
      if (mergeStderr) {
        pb.redirectErrorStream(true);
      } else {
        err = outputFile();
        pb.redirectError(err.toFile());
      }
      Process p = pb.start();
      boolean exited = false;
      try {
        exited = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      } finally {
        end(p);
      }
      return new Result(
          exited ? p.exitValue() : -1,
          !exited,
          read(out, keepBytes),
          err == null ? Output.NONE : read(err, keepBytes));
    } finally {
      Files.deleteIfExists(out);
      if (err != null) {
        Files.deleteIfExists(err);
      }
    }
  }

  /** Kills what is left: the command's group, or its descendants when it has no group. */
  private void end(Process p) {
    if (isolation.ownGroup()) {
      ProcessGroups.killGroup(p.pid(), isolation.killProgram());
    } else {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
    }
    p.destroyForcibly();
    boolean interrupted = Thread.interrupted();
    try {
      p.waitFor(KILL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      interrupted = true;
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static Path outputFile() throws IOException {
    return Files.createTempFile(
        "drainguard-command-",
        ".out",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
  }

  private static Output read(Path file, int keepBytes) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] kept = in.readNBytes(keepBytes);
      long all = Math.max(kept.length, Files.size(file));
      return new Output(new String(kept, StandardCharsets.UTF_8), all, all > kept.length);
    }
  }
}
