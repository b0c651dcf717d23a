package dev.drainguard.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What Linux says about a process: /proc/PID/status VmRSS and /proc/PID/stat CPU time. */
final class Proc {

  /** USER_HZ: the unit of utime and stime in /proc/PID/stat; 100 on every Linux ABI in use. */
  static final double TICKS_PER_SECOND = 100.0;

  private Proc() {}

  static long rssKib(long pid) {
    for (String line : read(Path.of("/proc", Long.toString(pid), "status")).split("\n")) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("\\D", ""));
      }
    }
    throw new IllegalStateException("no VmRSS in /proc/" + pid + "/status");
  }

  /** utime + stime of every thread, in seconds (resolution 10 ms). */
  static double cpuSeconds(long pid) {
    String stat = read(Path.of("/proc", Long.toString(pid), "stat"));
    // the command name (field 2) is in parentheses and may hold spaces: count from after it
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    long utime = Long.parseLong(f[11]); // field 14
    long stime = Long.parseLong(f[12]); // field 15
    return (utime + stime) / TICKS_PER_SECOND;
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + p, e);
    }
  }
}
