package dev.drainguard.bench;

import java.time.Duration;
import java.util.Map;

/**
 * Per-process figures over the window.
 *
 * @param cpuSeconds CPU time of the threads alive at both ends, from their {@code schedstat}
 * @param tickCpuSeconds the same from {@code /proc/PID/stat} (10 ms ticks, ended threads counted)
 * @param threadsEnded threads that ended during the window (their time is in the ticks only)
 */
record Usage(
    long rssKib,
    long peakRssKib,
    double cpuSeconds,
    double tickCpuSeconds,
    int threadsEnded,
    Duration window,
    Map<String, Double> byThread) {
  double cpuSecondsPerHour() {
    return cpuSeconds * 3600.0 / (window.toMillis() / 1000.0);
  }
}
