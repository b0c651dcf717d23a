package dev.drainguard.scenario.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The runner itself: a seed is a scenario, run after run. */
class CoreRunnerTest {

  private static List<String> fingerprint(Timeline t) {
    return java.util.stream.Stream.concat(
            t.emitted.stream().map(e -> e.at() + " " + e.inc() + " " + e.intent()),
            t.calls.stream().map(c -> c.answeredAt() + " " + c.kind() + " " + c.real()))
        .toList();
  }

  @Test
  void sameSeed_sameTimeline() {
    for (long seed = CoreScenariosTest.BASE_SEED + 1;
        seed <= CoreScenariosTest.BASE_SEED + 20;
        seed++) {
      Plan plan = PlanGenerator.generate(seed);
      Timeline a = new CoreRunner(plan).run();
      Timeline b = new CoreRunner(PlanGenerator.generate(seed)).run();
      assertThat(fingerprint(b)).as("seed %d", seed).isEqualTo(fingerprint(a));
      assertThat(b.steps).isEqualTo(a.steps);
    }
  }

  @Test
  void aScenarioRuns_theCoreDecides_andTheRunnerRecordsIt() {
    // guards against a runner that stops early or never lets the core act
    long decided =
        java.util.stream.LongStream.rangeClosed(1, 50)
            .mapToObj(
                i -> new CoreRunner(PlanGenerator.generate(CoreScenariosTest.BASE_SEED + i)).run())
            .filter(t -> !t.phases.isEmpty() && !t.calls.isEmpty() && !t.deliveries.isEmpty())
            .count();
    assertThat(decided).isGreaterThan(40);
  }
}
