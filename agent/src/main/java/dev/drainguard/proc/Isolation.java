package dev.drainguard.proc;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * How a command is kept apart from the agent, as this host allows: a process group of its own
 * ({@code setsid}), so that everything it starts can be killed when it ends, and no ambient
 * capability ({@code setpriv --ambient-caps=-all}), so that an operator's command cannot read what
 * only the agent's {@code CAP_DAC_READ_SEARCH} may.
 *
 * @param prefix the programs the shell is started through, in order
 * @param ownGroup whether the command leads a process group of its own
 * @param killProgram {@code kill}, which signals a whole group at once; without it the group's
 *     members are found in {@code /proc}
 * @param description one line for the log and {@code drainguard check}
 */
public record Isolation(
    List<String> prefix, boolean ownGroup, Optional<String> killProgram, String description) {

  /** util-linux's paths on Debian, Ubuntu and Amazon Linux. */
  static final List<String> SETSID = List.of("/usr/bin/setsid", "/bin/setsid");

  static final List<String> SETPRIV = List.of("/usr/bin/setpriv", "/bin/setpriv");

  /** procps' or util-linux's kill: both take {@code -KILL -- -PGID}. */
  static final List<String> KILL = List.of("/usr/bin/kill", "/bin/kill");

  /**
   * The ways to drop capabilities, best first. {@code --inh-caps} needs the capset system call,
   * which the packaged unit's {@code SystemCallFilter=~@privileged} refuses; lowering the ambient
   * set alone (a prctl) is enough for an unprivileged user, whose other sets an exec then empties.
   */
  static final List<List<String>> DROPS =
      List.of(List.of("--ambient-caps=-all", "--inh-caps=-all"), List.of("--ambient-caps=-all"));

  /** How long the one-time trial of setpriv may take. */
  static final Duration TRIAL_TIMEOUT = Duration.ofSeconds(10);

  public Isolation {
    prefix = List.copyOf(prefix);
  }

  /** Whether ambient capabilities are dropped, kept, or the agent has none. */
  public enum Capabilities {
    /** Drop the agent's ambient capabilities (operator commands). */
    DROP,
    /** Keep them: the probe command reads queue files as the agent's watcher does. */
    KEEP
  }

  /** What this host allows, found by looking for the programs and trying setpriv once. */
  static Isolation detect(Capabilities caps, Map<String, String> env) {
    List<String> prefix = new ArrayList<>();
    List<String> said = new ArrayList<>();
    // tried, not only looked for: a system call filter could refuse setsid()
    Optional<String> setsid = first(SETSID).filter(p -> runs(List.of(p), env));
    if (setsid.isPresent()) {
      prefix.add(setsid.get());
      said.add("own process group (setsid)");
    } else {
      said.add(
          "NO process group of its own (no setsid that works): only the descendants a command"
              + " still has when it ends are killed");
    }
    long ambient = ambientCapabilities();
    if (ambient == 0) {
      said.add("no ambient capabilities to drop");
    } else if (caps == Capabilities.KEEP) {
      said.add(String.format("ambient capabilities kept (0x%x)", ambient));
    } else {
      Optional<String> setpriv = first(SETPRIV);
      Optional<List<String>> drop = setpriv.flatMap(p -> workingDrop(p, env));
      if (drop.isPresent()) {
        prefix.addAll(drop.get());
        said.add("ambient capabilities dropped (" + String.join(" ", drop.get()) + ")");
      } else {
        said.add(
            String.format(
                "ambient capabilities KEPT (0x%x): %s",
                ambient,
                setpriv.isEmpty()
                    ? "setpriv not found"
                    : "setpriv refused --ambient-caps=-all (util-linux older than 2.31?)"));
      }
    }
    return new Isolation(prefix, setsid.isPresent(), first(KILL), String.join(", ", said));
  }

  /** The first setpriv invocation that runs a trivial command here, if any does. */
  static Optional<List<String>> workingDrop(String setpriv, Map<String, String> env) {
    for (List<String> options : DROPS) {
      List<String> drop = new ArrayList<>();
      drop.add(setpriv);
      drop.addAll(options);
      if (runs(drop, env)) {
        return Optional.of(drop);
      }
    }
    return Optional.empty();
  }

  /** The agent's ambient capability set from {@code /proc/self/status}; 0 when unreadable. */
  static long ambientCapabilities() {
    try {
      return parseAmbient(ProcFiles.read(Path.of("/proc/self/status")));
    } catch (IOException e) {
      return 0;
    }
  }

  static long parseAmbient(String status) {
    return status
        .lines()
        .filter(l -> l.startsWith("CapAmb:"))
        .map(l -> Long.parseUnsignedLong(l.substring("CapAmb:".length()).strip(), 16))
        .findFirst()
        .orElse(0L);
  }

  private static boolean runs(List<String> prefix, Map<String, String> env) {
    List<String> argv = new ArrayList<>(prefix);
    argv.addAll(List.of("/bin/sh", "-c", ":"));
    ProcessBuilder pb = new ProcessBuilder(argv);
    pb.environment().clear();
    pb.environment().putAll(env);
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
    pb.redirectError(ProcessBuilder.Redirect.DISCARD);
    try {
      Process p = pb.start();
      if (!p.waitFor(TRIAL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        return false;
      }
      return p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static Optional<String> first(List<String> paths) {
    return paths.stream().filter(p -> Files.isExecutable(Path.of(p))).findFirst();
  }
}
