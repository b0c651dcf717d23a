package dev.drainguard.scenario.core;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import dev.drainguard.scenario.Shrinker;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Model-based randomized testing of the decision core (issues 13 and 14): thousands of scenarios,
 * each built from a seed ({@link PlanGenerator}), run against the real {@code DrainController} on a
 * virtual clock by {@link CoreRunner} — the world's true queue content, sources that read it late,
 * out of order, wrongly (a missed filesystem event, a rename counted twice) or not at all, Auto
 * Scaling in-process ({@code sim.InProcessAutoScaling}, the simulator's own model) with slow,
 * failing and lost calls — and judged afterwards on the whole timeline ({@link CoreInvariants}):
 *
 * <ul>
 *   <li>(a) temporal: CONTINUE, and a retained instance terminating itself, at T only if every
 *       deciding source's TRUE content was empty throughout [T − quiet-period, T] (T alone after an
 *       operator's release), except what no agent could know ({@link ReleaseCheck} says exactly
 *       what); never while an operator's hold is in force; with data only by policy complete at the
 *       deadline or {@code release --force}. ABANDON only by policy retain, at the deadline.
 *   <li>(b) the action never times out while data is queued, except: after the deadline when policy
 *       expire stopped heartbeats or the global timeout is due; a spot interruption; no agent
 *       alive, or one restarted within the last HeartbeatTimeout; the global timeout of an agent
 *       restarted after the termination began (documented); Auto Scaling/IMDS unreachable for a
 *       stretch of at least HeartbeatTimeout − (max(interval, latency) + 6 × latency + 2 × 5 s + 1
 *       s). Two known limitations are excused and counted in the coverage report: a hook lowered
 *       (PutLifecycleHook) while the instance deregisters, after the agent last read it, with no
 *       heartbeat accepted since the action became active; and, with deadline-margin 0, a global
 *       timeout that falls within the latency of the agent's last poll that was not Terminated (the
 *       deadline counts from that poll's arrival).
 *   <li>(c) no intent outside what the phase allows (protection only in service; heartbeats,
 *       CONTINUE, describes while terminating; TERMINATE only retained; nothing once ended; ABANDON
 *       only with policy retain; each command at most once).
 *   <li>(d) never a call while one of the same slot is in flight (checked live).
 *   <li>(e) fleet manners: a call of one kind again no sooner than 5 s after it failed, a heartbeat
 *       no sooner than the heartbeat interval after one was accepted ("not active yet" retries are
 *       jittered from zero, so they have no floor); the hook read at most at the notice, at
 *       activation, and after each surprising answer or failed read; and after a heartbeat answered
 *       "No active", the next within one back-off step (≤ min(180 s, HT/3)).
 *   <li>(f) LOST only when Auto Scaling no longer has the instance terminating, waiting or
 *       retained.
 *   <li>(g) an accepted ABANDON ends RETAINED (group retains) or LOST (it does not).
 *   <li>(h) in the plan's calm tail, an instance drained throughout with its action active (or
 *       retained) and no hold is let go.
 * </ul>
 *
 * <p>{@code -Dscenarios=N} runs N seeds instead of 2,000 (a long run: {@code ./mvnw -pl agent test
 * -Dtest=CoreScenariosTest -Dscenarios=100000}; {@code -Dscenario.first=K} starts at the K-th seed,
 * to run a long range in parts); {@code -Dscenario.seed=S} replays one seed, prints its timeline
 * and, if it fails, its shortest failing schedule. A failing seed is printed with the shortest
 * schedule that still fails. The last line on stdout is {@code scenarios: N run, M invariant
 * violations}.
 */
class CoreScenariosTest {

  /** The fixed seed set of CI: BASE_SEED + 1 … BASE_SEED + N. */
  static final long BASE_SEED = 13_000_000;

  static final int DEFAULT_SCENARIOS = 2_000;

  static final int SHRINK_AT_MOST = 3;

  static final int SHRINK_RUNS = 150;

  /**
   * One scenario's outcome; {@code timeline} is dropped (null) once counted, so that a long run
   * keeps only plans and violations.
   */
  record Result(Plan plan, Timeline timeline, List<String> violations, long steps) {}

  @Test
  void everyRandomScenario_keepsEveryInvariant() throws InterruptedException {
    String replay = System.getProperty("scenario.seed");
    int count = Integer.getInteger("scenarios", DEFAULT_SCENARIOS);
    int threads =
        Integer.getInteger(
            "scenario.threads", Math.min(2, Runtime.getRuntime().availableProcessors()));
    Logger logs = (Logger) LoggerFactory.getLogger("dev.drainguard");
    Level before = logs.getLevel();
    if (replay == null) {
      logs.setLevel(Level.OFF); // thousands of agents: their logs are not read, only their steps
    }
    long started = System.nanoTime();
    List<Result> results = new ArrayList<>();
    Coverage coverage = new Coverage();
    StringBuilder report = new StringBuilder();
    long millis;
    try {
      if (replay != null) {
        Result r = run(PlanGenerator.generate(Long.parseLong(replay.strip())));
        coverage.add(r);
        results.add(r);
        System.err.println(Trace.of(r.plan(), r.timeline()));
        System.err.println("steps " + r.timeline().stepKinds);
      } else {
        results = runAll(Long.getLong("scenario.first", 1), count, threads, coverage);
      }
      millis = (System.nanoTime() - started) / 1_000_000;
      int shrunk = 0;
      for (Result r : results) {
        if (r.violations().isEmpty()) {
          continue;
        }
        report.append("\nFAILED scenario ").append(describe(r.plan(), r.violations()));
        if (shrunk++ < SHRINK_AT_MOST) {
          report
              .append("\n  shortest failing schedule:\n  ")
              .append(shrink(r).replace("\n", "\n  "));
        }
        report
            .append("\n  replay: ./mvnw -pl agent test -Dtest=CoreScenariosTest -Dscenario.seed=")
            .append(r.plan().seed())
            .append('\n');
      }
    } finally {
      logs.setLevel(before);
    }
    if (report.length() > 0) {
      System.err.println(report);
    }
    long violations = results.stream().mapToLong(r -> r.violations().size()).sum();
    long failed = results.stream().filter(r -> !r.violations().isEmpty()).count();
    System.err.println(coverage);
    System.err.printf(
        "scenario timing: %d ms, %d threads, %d core steps%n",
        millis, threads, results.stream().mapToLong(Result::steps).sum());
    System.out.printf(
        "scenarios: %d run, %d invariant violations%s%n",
        results.size(), violations, failed == 0 ? "" : " in " + failed + " scenarios");
    assertThat(violations).as(report.toString()).isZero();
  }

  private static List<Result> runAll(long first, int count, int threads, Coverage coverage)
      throws InterruptedException {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Result>> futures = new ArrayList<>();
      for (long i = first; i < first + count; i++) {
        long seed = BASE_SEED + i;
        futures.add(
            pool.submit(
                () -> {
                  Result r = run(PlanGenerator.generate(seed));
                  coverage.add(r);
                  return new Result(r.plan(), null, r.violations(), r.steps());
                }));
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

  static Result run(Plan plan) {
    Timeline t = new CoreRunner(plan).run();
    return new Result(plan, t, CoreInvariants.check(plan, t), t.steps);
  }

  /** The first violation's invariant, e.g. "(a)": a shrunk schedule must still break that one. */
  private static String kind(List<String> violations) {
    return violations.get(0).substring(0, 3);
  }

  private static String shrink(Result r) {
    String kind = kind(r.violations());
    List<Plan.Change> shortest =
        Shrinker.shrink(
            r.plan().changes(),
            candidate ->
                run(r.plan().withChanges(candidate)).violations().stream()
                    .anyMatch(x -> x.startsWith(kind)),
            SHRINK_RUNS);
    Plan p = r.plan().withChanges(shortest);
    return describe(p, run(p).violations());
  }

  private static String describe(Plan p, List<String> violations) {
    return p.describe() + "\n  violations:\n    " + String.join("\n    ", violations);
  }
}
