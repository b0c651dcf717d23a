package dev.drainguard.bench;

import dev.drainguard.queue.ReconcileBenchmark;
import dev.drainguard.queue.WatcherThroughputBenchmark;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * The micro part: the JMH benchmarks of the queue watcher, each in a forked JVM with the packaged
 * launcher's JVM options for {@code run} (C1 only, Serial GC, the heap cap), so that they measure
 * the code as the agent runs it; and the watcher's heap per directory, in a JVM of its own.
 */
final class Micro {

  /** One JMH figure: score ± error (99.9 %), with the per-iteration min, median and max. */
  record Figure(double score, double error, double min, double median, double max, String unit) {
    static Figure of(Result<?> r) {
      var s = r.getStatistics();
      return new Figure(
          r.getScore(),
          r.getScoreError(),
          s.getMin(),
          s.getPercentile(50),
          s.getMax(),
          r.getScoreUnit());
    }
  }

  record Results(
      Figure reconcile, Figure watcherEvents, Figure writerAlone, Map<String, Long> memory) {}

  private final Path work;
  private final List<String> jvmOptions;
  private final String classpath;

  Micro(Path work, List<String> jvmOptions, String classpath) {
    this.work = work;
    this.jvmOptions = jvmOptions;
    this.classpath = classpath;
  }

  Results run() throws RunnerException, IOException, InterruptedException {
    List<String> forkOptions = new ArrayList<>(jvmOptions);
    forkOptions.add("-Dbench.work=" + work.resolve("micro"));
    Collection<RunResult> results =
        new Runner(
                new OptionsBuilder()
                    .include(ReconcileBenchmark.class.getName())
                    .include(WatcherThroughputBenchmark.class.getName())
                    .jvmArgs(forkOptions.toArray(String[]::new))
                    .shouldFailOnError(true)
                    .verbosity(VerboseMode.NORMAL)
                    .build())
            .run();
    Map<String, Figure> byName = new HashMap<>();
    for (RunResult r : results) {
      String name = r.getParams().getBenchmark();
      byName.put(name.substring(name.lastIndexOf('.') + 1), Figure.of(r.getPrimaryResult()));
    }
    return new Results(
        byName.get("fullReconcile"),
        byName.get("watched"),
        byName.get("writerAlone"),
        memory(forkOptions));
  }

  private Map<String, Long> memory(List<String> forkOptions)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(forkOptions);
    cmd.addAll(List.of("-cp", classpath, WatcherMemory.class.getName()));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("the memory probe failed: " + out);
    }
    Map<String, Long> m = new HashMap<>();
    out.lines()
        .filter(l -> l.contains("="))
        .forEach(
            l ->
                m.put(
                    l.substring(0, l.indexOf('=')),
                    Long.parseLong(l.substring(l.indexOf('=') + 1))));
    return m;
  }
}
