package dev.drainguard.forecast;

import java.time.Duration;
import java.util.Locale;

/** Human figures for the forecast's phrases: binary byte units, durations to the second. */
final class Units {

  private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB"};

  private Units() {}

  static String bytes(double n) {
    double v = n;
    int u = 0;
    while (Math.abs(v) >= 1024 && u < UNITS.length - 1) {
      v /= 1024;
      u++;
    }
    return u == 0
        ? String.format(Locale.ROOT, "%.0f B", v)
        : String.format(Locale.ROOT, "%.1f %s", v, UNITS[u]);
  }

  static String rate(double bytesPerSecond) {
    return bytes(bytesPerSecond) + "/s";
  }

  /** {@code 2h 5m}, {@code 2m 10s}, {@code 6m}, {@code 45s}; rounded to the second. */
  static String duration(Duration d) {
    long s = Math.max(0, (d.toMillis() + 500) / 1000);
    long h = s / 3600;
    long m = s % 3600 / 60;
    long sec = s % 60;
    if (h > 0) {
      return m == 0 ? h + "h" : h + "h " + m + "m";
    }
    if (m > 0) {
      return sec == 0 ? m + "m" : m + "m " + sec + "s";
    }
    return sec + "s";
  }
}
