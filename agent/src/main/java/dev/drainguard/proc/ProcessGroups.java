package dev.drainguard.proc;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/**
 * Process groups as Linux shows them in {@code /proc}: a command started under {@code setsid} leads
 * a group of its own, so everything it started stays findable after it exits, even a background
 * child that was handed to init ({@code sleep 60 & echo 0}). Only a process that starts a session
 * of its own (a daemon) leaves the group.
 */
final class ProcessGroups {

  /**
   * How many times the group is listed and killed: a member may fork between the listing and its
   * SIGKILL, and that child is caught by the next round.
   */
  static final int KILL_ROUNDS = 8;

  private ProcessGroups() {}

  /** How long the kill program may take. */
  static final Duration KILL_PROGRAM_TIMEOUT = Duration.ofSeconds(5);

  /**
   * Sends SIGKILL to every process of group {@code pgid}, never the agent's own group. With a
   * {@code kill} program, one {@code kill -KILL -- -PGID}: the kernel signals the whole group at
   * once, and a member forking meanwhile is stopped before its child runs. Without one, the group's
   * members are found in {@code /proc} and killed, round after round until none is left.
   */
  static void killGroup(long pgid, Optional<String> killProgram) {
    long self = ProcessHandle.current().pid();
    if (groupOf(self).orElse(-1) == pgid) {
      return; // the command did not get a group of its own: never signal the agent's
    }
    if (killProgram.isPresent() && runKill(killProgram.get(), pgid)) {
      return;
    }
    for (int round = 0; round < KILL_ROUNDS; round++) {
      List<ProcessHandle> members =
          ProcessHandle.allProcesses().filter(h -> liveMemberOf(h.pid(), pgid)).toList();
      if (members.isEmpty()) {
        return;
      }
      members.stream().filter(h -> h.pid() != self).forEach(ProcessHandle::destroyForcibly);
    }
  }

  /** Whether {@code kill -KILL -- -PGID} ran (its exit is 1 when the group is already empty). */
  private static boolean runKill(String kill, long pgid) {
    ProcessBuilder pb = new ProcessBuilder(kill, "-KILL", "--", "-" + pgid);
    pb.environment().clear();
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
    pb.redirectError(ProcessBuilder.Redirect.DISCARD);
    try {
      Process p = pb.start();
      if (p.waitFor(KILL_PROGRAM_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        return true;
      }
      p.destroyForcibly();
      return false;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Whether {@code pid} is alive (not a zombie) and in group {@code pgid}. */
  static boolean liveMemberOf(long pid, long pgid) {
    Stat s = stat(pid);
    return s != null && s.pgrp() == pgid && s.state() != 'Z' && s.state() != 'X';
  }

  /** The process group of {@code pid}, if it can be read. */
  static OptionalLong groupOf(long pid) {
    Stat s = stat(pid);
    return s == null ? OptionalLong.empty() : OptionalLong.of(s.pgrp());
  }

  /** The fields of {@code /proc/PID/stat} used here. */
  record Stat(char state, long pgrp) {}

  /**
   * Parses {@code /proc/PID/stat}: {@code pid (comm) state ppid pgrp ...}; the command name may
   * hold spaces and parentheses, so the fields are counted after the last ')'.
   */
  static Stat parseStat(String line) {
    int close = line.lastIndexOf(')');
    if (close < 0) {
      return null;
    }
    String[] f = line.substring(close + 1).trim().split(" ");
    if (f.length < 3 || f[0].isEmpty()) {
      return null;
    }
    try {
      return new Stat(f[0].charAt(0), Long.parseLong(f[2]));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static Stat stat(long pid) {
    try {
      return parseStat(ProcFiles.read(Path.of("/proc", Long.toString(pid), "stat")));
    } catch (IOException | RuntimeException e) {
      // gone since it was listed, or not ours to read: not a member we can act on
      return null;
    }
  }
}
