package dev.drainguard.bench;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** One process's CPU figures at the start of the window. */
final class CpuWindow {
  private final long pid;
  private final Map<String, Double> threads;
  private final Set<String> ids;
  private final double ticks;

  CpuWindow(long pid) {
    this.pid = pid;
    this.ids = Proc.threadIds(pid);
    this.ticks = Proc.cpuSeconds(pid);
    this.threads = Proc.cpuByThread(pid);
  }

  Usage end(long peakRssKib, Duration measured) {
    Map<String, Double> now = Proc.cpuByThread(pid);
    double tickCpu = Proc.cpuSeconds(pid) - ticks;
    Set<String> ended = new TreeSet<>(ids);
    ended.removeAll(Proc.threadIds(pid));
    Map<String, Double> delta = new TreeMap<>();
    now.forEach((name, sec) -> delta.put(name, sec - threads.getOrDefault(name, 0.0)));
    double cpu = delta.values().stream().mapToDouble(Double::doubleValue).sum();
    return new Usage(Proc.rssKib(pid), peakRssKib, cpu, tickCpu, ended.size(), measured, delta);
  }
}
