package dev.drainguard.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.drain.DrainStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Model-based randomized testing of the whole promise (issue 7): a hundred scale-ins, each built
 * from a seed ({@link ScenarioGenerator}), driven through the real agent against the simulator
 * ({@link ScenarioRunner}) and judged afterwards ({@link Invariants}). The decision core alone is
 * driven through thousands more by {@code scenario.core.CoreScenariosTest}.
 *
 * <p>{@code -Dagent.scenarios=N} runs N seeds instead of the default 100; {@code
 * -Dagent.scenario.seed=S} replays one seed and prints its whole trace (the properties differ from
 * the core runner's {@code -Dscenarios} and {@code -Dscenario.seed}, so that a long run of one does
 * not start the other's). A failing scenario is printed with its seed and a shortest schedule that
 * still fails. The last line on stdout is always {@code agent scenarios (real agent, HTTP
 * simulator): N run, M invariant violations}.
 */
class RandomScenariosTest {

  /** The fixed seed set of CI: seeds BASE_SEED + 1 … BASE_SEED + N. */
  static final long BASE_SEED = 7_000_000;

  /**
   * Each drives a whole agent over HTTP: slow. The decision core's thousands of scenarios run in
   * {@code scenario.core.CoreScenariosTest}; these keep the assembly and the wire honest.
   */
  static final int DEFAULT_SCENARIOS = 100;

  /** How many failing scenarios are shrunk; the others are printed with their full schedule. */
  static final int SHRINK_AT_MOST = 3;

  static final int SHRINK_RUNS = 80;

  @TempDir static Path work;

  record Result(Scenario scenario, Trace trace, List<String> violations, long millis) {}

  @BeforeAll
  static void captureLogs() {
    LogCapture.install();
  }

  @AfterAll
  static void restoreLogs() {
    LogCapture.uninstall();
  }

  @Test
  void everyRandomScenario_keepsEveryInvariant() throws InterruptedException {
    String replay = System.getProperty("agent.scenario.seed");
    int count = Integer.getInteger("agent.scenarios", DEFAULT_SCENARIOS);
    List<Long> seeds =
        replay != null
            ? List.of(Long.parseLong(replay.strip()))
            : LongStream.rangeClosed(1, count).map(i -> BASE_SEED + i).boxed().toList();
    // Scenarios mostly wait (on the agent's tick, on loopback HTTP): 4 run well on 2 cores.
    int threads = Integer.getInteger("agent.scenario.threads", 4);
    long started = System.nanoTime();
    List<Result> results = runAll(seeds, threads);
    long millis = (System.nanoTime() - started) / 1_000_000;

    List<Result> failing = results.stream().filter(r -> !r.violations().isEmpty()).toList();
    List<String> broken = LogCapture.broken();
    StringBuilder report = new StringBuilder();
    for (int i = 0; i < failing.size(); i++) {
      Result r = failing.get(i);
      report.append("\nFAILED scenario ").append(describe(r));
      if (i < SHRINK_AT_MOST && replay == null) {
        report.append("\n  shortest failing schedule:\n  ").append(shrink(r).replace("\n", "\n  "));
      }
      report
          .append(
              "\n  replay: ./mvnw -pl agent test -Dtest=RandomScenariosTest -Dagent.scenario.seed=")
          .append(r.scenario().seed())
          .append('\n');
    }
    if (!broken.isEmpty()) {
      report.append("\nagent loops that failed:\n  ").append(String.join("\n  ", broken));
    }
    if (replay != null) {
      System.err.println(trace(results.get(0)));
    }
    if (report.length() > 0) {
      System.err.println(report);
    }
    long violations = results.stream().mapToLong(r -> r.violations().size()).sum() + broken.size();
    System.err.printf(
        "scenario timing: %d ms total, %d threads, slowest seed %s%n",
        millis,
        threads,
        results.stream()
            .max(Comparator.comparingLong(Result::millis))
            .map(r -> r.scenario().seed() + " (" + r.millis() + " ms)")
            .orElse("-"));
    if (Boolean.getBoolean("agent.scenario.debug")) {
      System.err.println("steps " + results.stream().mapToLong(r -> r.trace().steps()).sum());
      results.stream()
          .sorted(Comparator.comparingLong(Result::millis).reversed())
          .limit(15)
          .forEach(
              r ->
                  System.err.println(
                      r.millis()
                          + " ms steps="
                          + r.trace().steps()
                          + " "
                          + r.scenario().describe()));
    }
    System.out.printf(
        "agent scenarios (real agent, HTTP simulator): %d run, %d invariant violations%n",
        results.size(), violations);
    assertThat(violations).as(report.toString()).isZero();
  }

  private static List<Result> runAll(List<Long> seeds, int threads) throws InterruptedException {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Result>> futures = new ArrayList<>();
      for (long seed : seeds) {
        futures.add(pool.submit(() -> run(ScenarioGenerator.generate(seed))));
      }
      List<Result> results = new ArrayList<>();
      for (Future<Result> f : futures) {
        try {
          results.add(f.get());
        } catch (ExecutionException e) {
          throw new IllegalStateException("the scenario runner itself failed", e.getCause());
        }
      }
      return results;
    } finally {
      pool.shutdownNow();
    }
  }

  static Result run(Scenario s) {
    long started = System.nanoTime();
    Path dir;
    try {
      dir = Files.createTempDirectory(work, "s");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Trace trace = new ScenarioRunner(s, dir).run();
    deleteTree(dir);
    return new Result(s, trace, Invariants.check(trace), (System.nanoTime() - started) / 1_000_000);
  }

  /** The first violation's invariant, e.g. "(c)": a shrunk schedule must still break that one. */
  private static String kind(List<String> violations) {
    return violations.get(0).substring(0, 3);
  }

  private static String shrink(Result r) {
    String kind = kind(r.violations());
    Scenario shortest =
        Shrinker.shrink(
            r.scenario(),
            candidate -> {
              List<String> v = run(candidate).violations();
              return !v.isEmpty() && v.stream().anyMatch(x -> x.startsWith(kind));
            },
            SHRINK_RUNS);
    return shortest.describe();
  }

  private static String describe(Result r) {
    return r.scenario().describe()
        + "\n  violations:\n    "
        + String.join("\n    ", r.violations());
  }

  /** Everything about one run, for a replayed seed. */
  private static String trace(Result r) {
    Trace t = r.trace();
    StringBuilder b = new StringBuilder("replayed ").append(describe(r)).append("\n  queues:");
    t.changes().forEach(c -> b.append("\n    ").append(t.at(c.at())).append(' ').append(c.bytes()));
    b.append("\n  agents:");
    for (Trace.Incarnation a : t.agents()) {
      b.append("\n    ").append(t.at(a.start())).append(" .. ").append(t.at(a.stop()));
      for (DrainStatus s : a.statuses()) {
        b.append("\n      ")
            .append(t.at(s.evaluatedAt()))
            .append(' ')
            .append(s.phase())
            .append(" heartbeats=")
            .append(s.heartbeats())
            .append(" bytes=")
            .append(s.queues().totalBytes())
            .append(s.lastError().map(e -> " lastError=" + e).orElse(""));
      }
    }
    b.append("\n  Auto Scaling calls:");
    t.calls()
        .forEach(
            c ->
                b.append("\n    ")
                    .append(t.at(c.at()))
                    .append(' ')
                    .append(c.action())
                    .append(' ')
                    .append(c.params().getOrDefault("LifecycleActionResult", ""))
                    .append(' ')
                    .append(c.httpStatus())
                    .append(c.errorCode() == null ? "" : " " + c.errorCode()));
    b.append("\n  action end: ")
        .append(
            t.actionEnd()
                .map(e -> e.kind() + " " + e.result() + " " + t.at(e.at()))
                .orElse("none"));
    b.append("\n  logs:\n    ").append(String.join("\n    ", t.logs()));
    return b.toString();
  }

  private static void deleteTree(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // best effort: @TempDir removes what is left
    }
  }
}
