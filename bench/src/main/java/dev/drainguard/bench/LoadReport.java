package dev.drainguard.bench;

import static dev.drainguard.bench.Load.CHUNK;
import static dev.drainguard.bench.Load.FILE_BYTES;
import static dev.drainguard.bench.Load.JIT_WARM_UP;
import static dev.drainguard.bench.Load.KEEP_FILES;
import static dev.drainguard.bench.Load.WARM_UP;

import dev.drainguard.bench.Load.Phase;
import dev.drainguard.bench.Load.Result;
import dev.drainguard.bench.Load.Sample;
import dev.drainguard.bench.Load.Soak;
import java.io.PrintStream;
import java.util.List;

/** The load section's rows in the table and its notes. */
final class LoadReport {

  private LoadReport() {}

  /** The section's rows. */
  static void rows(Result r, Table t) {
    for (Phase p : r.phases()) {
      String what =
          String.format(
              "agent CPU / inotifywait CPU, %s, %,d appends/s of 8 KiB (%d s)",
              p.state(), p.rate(), p.window().toSeconds());
      double perEventAgent = p.inotifyEvents() == 0 ? 0 : p.agentCpu() * 1e6 / p.inotifyEvents();
      if (p.ratio() == null) {
        t.add(
            "load",
            what,
            String.format("agent %.2f s (%,d appends); no inotifywait", p.agentCpu(), p.appends()),
            "≤ 1.0",
            "not compared");
        continue;
      }
      double perEventInotify = p.inotifyCpu() * 1e6 / p.inotifyEvents();
      t.add(
          "load",
          what,
          String.format(
              "%.2f (agent %.2f s, inotifywait %.2f s; %,d appends, %,d events: %.1f vs %.1f µs"
                  + " per event)",
              p.ratio(),
              p.agentCpu(),
              p.inotifyCpu(),
              p.appends(),
              p.inotifyEvents(),
              perEventAgent,
              perEventInotify),
          "≤ 1.0 (done at ≤ 1.5)",
          p.ratio() <= 1.0);
    }
    Soak soak = r.soak();
    List<Sample> s = soak.samples();
    long rssMin = s.stream().mapToLong(Sample::rssKib).min().orElse(0);
    long rssMax = s.stream().mapToLong(Sample::rssKib).max().orElse(0);
    long heapMin = s.stream().mapToLong(Sample::heapUsedKib).min().orElse(0);
    long heapMax = s.stream().mapToLong(Sample::heapUsedKib).max().orElse(0);
    t.add(
        "load",
        String.format(
            "agent RSS over %d s at %,d appends/s (%d readings)",
            soak.length().toSeconds(), soak.rate(), s.size()),
        String.format(
            "first %.1f MiB, last %.1f MiB (min %.1f, max %.1f)",
            s.get(0).rssKib() / 1024.0,
            s.get(s.size() - 1).rssKib() / 1024.0,
            rssMin / 1024.0,
            rssMax / 1024.0),
        "flat",
        "");
    t.add(
        "load",
        "agent heap over the same run: live after a full GC at start → end; in use between",
        String.format(
            "live %.1f → %.1f MiB; in use %.1f to %.1f MiB",
            soak.liveHeapStartKib() / 1024.0,
            soak.liveHeapEndKib() / 1024.0,
            heapMin / 1024.0,
            heapMax / 1024.0),
        "flat",
        "");
  }

  /** How the figures were taken, the readings of the soak, where the agent's CPU went. */
  static void notes(Result r, PrintStream md) {
    md.println("Load (issue 18): " + r.inotifywait() + ".");
    md.printf(
        "The writer (a thread of the bench JVM) appends %d KiB chunks to %d MiB files under one"
            + " queue root of the packaged agent (all defaults), deleting the oldest beyond %d;"
            + " `inotifywait -m -r` watches the same tree and prints every event to a pipe the bench"
            + " reads. CPU is utime + stime from /proc over the same window, after %d s of warm-up"
            + " (and %d s at the highest rate before the first window, for the agent's JIT);"
            + " per event = CPU / inotifywait's events. Holding: the instance terminated in the"
            + " simulator, the action held (data queued).%n",
        CHUNK / 1024,
        FILE_BYTES / 1048576,
        KEEP_FILES,
        WARM_UP.toSeconds(),
        JIT_WARM_UP.toSeconds());
    for (Phase p : r.phases()) {
      md.printf(
          "- %s, %,d appends/s: agent threads (CPU s): %s%n", p.state(), p.rate(), threads(p));
    }
    StringBuilder readings = new StringBuilder();
    for (Sample s : r.soak().samples()) {
      readings.append(
          String.format(
              "%s%d s %.1f/%.1f",
              readings.isEmpty() ? "" : ", ",
              s.second(),
              s.rssKib() / 1024.0,
              s.heapUsedKib() / 1024.0));
    }
    md.println("- soak readings (s: RSS MiB / heap in use MiB, jcmd GC.heap_info): " + readings);
  }

  private static String threads(Phase p) {
    StringBuilder b = new StringBuilder();
    p.agentThreads().entrySet().stream()
        .sorted((x, y) -> Double.compare(y.getValue(), x.getValue()))
        .forEach(
            e ->
                b.append(b.isEmpty() ? "" : ", ")
                    .append(e.getKey())
                    .append(' ')
                    .append(String.format("%.2f", e.getValue())));
    return b.toString();
  }
}
