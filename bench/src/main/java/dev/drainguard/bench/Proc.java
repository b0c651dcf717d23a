package dev.drainguard.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What Linux says about a process: /proc/PID/status VmRSS, /proc/PID/stat CPU time, and each
 * thread's /proc/PID/task/TID/schedstat.
 */
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
    return cpu(read(Path.of("/proc", Long.toString(pid), "stat")));
  }

  /**
   * CPU seconds per thread name ({@code comm}, at most 15 characters, digits at the end made {@code
   * #}), summed over the threads of that name, from each thread's {@code schedstat} (time on a CPU,
   * in nanoseconds): where a process's CPU time goes, finer than the 10 ms ticks of {@code stat},
   * which an idle JVM's threads, waking for microseconds, mostly fall between. Threads that ended
   * are not listed.
   */
  static Map<String, Double> cpuByThread(long pid) {
    Map<String, Double> m = new TreeMap<>();
    Path tasks = Path.of("/proc", Long.toString(pid), "task");
    try (Stream<Path> s = Files.list(tasks)) {
      for (Path task : s.toList()) {
        try {
          String name = Files.readString(task.resolve("comm")).strip();
          double seconds =
              Long.parseLong(Files.readString(task.resolve("schedstat")).split(" ")[0]) / 1e9;
          m.merge(name.replaceAll("[0-9]+$", "#"), seconds, Double::sum);
        } catch (IOException ended) {
          // the thread ended while the directory was listed
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("listing " + tasks, e);
    }
    return m;
  }

  /** The threads of a process now, by id: to tell which ended during a window. */
  static java.util.Set<String> threadIds(long pid) {
    Path tasks = Path.of("/proc", Long.toString(pid), "task");
    try (Stream<Path> s = Files.list(tasks)) {
      return s.map(t -> t.getFileName().toString())
          .collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new));
    } catch (IOException e) {
      throw new UncheckedIOException("listing " + tasks, e);
    }
  }

  /** The sum of {@link #cpuByThread}: CPU seconds of the threads alive now, to the nanosecond. */
  static double runSeconds(long pid) {
    return cpuByThread(pid).values().stream().mapToDouble(Double::doubleValue).sum();
  }

  private static double cpu(String stat) {
    // the command name (field 2) is in parentheses and may hold spaces: count from after it
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    long utime = Long.parseLong(f[11]); // field 14
    long stime = Long.parseLong(f[12]); // field 15
    return (utime + stime) / TICKS_PER_SECOND;
  }

  /** The 1-minute load average: how busy the machine was around a measurement. */
  static String loadAverage() {
    return read(Path.of("/proc/loadavg")).split(" ")[0];
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + p, e);
    }
  }
}
