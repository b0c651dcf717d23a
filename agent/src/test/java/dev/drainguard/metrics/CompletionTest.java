package dev.drainguard.metrics;

import static dev.drainguard.metrics.Statuses.T0;
import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.drain.Phase;
import dev.drainguard.lifecycle.LifecycleResult;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CompletionTest {

  /** The controller's own end reasons (see drain.DrainController), mapped to a fixed label set. */
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          COMPLETED | CONTINUE | queues drained                                       | continue | drained
          COMPLETED | CONTINUE | queues drained, deadline reached during the command  | continue | drained
          COMPLETED | CONTINUE | deadline reached, policy complete                    | continue | deadline
          COMPLETED | CONTINUE | released by operator with --force, 10 bytes lost     | continue | released
          COMPLETED | CONTINUE | a reason this version does not know                  | continue | other
          LOST      |          | the lifecycle action was gone when completing it     | none     | lost
          LOST      |          | released, but the lifecycle action never was active  | none     | lost
          EXPIRED   |          | deadline reached, policy expire: heartbeats stopped  | none     | expired
          """)
  void of_mapsPhaseAndReasonToAFixedSet(
      Phase phase, LifecycleResult result, String endReason, String wantResult, String wantReason) {
    Completion c = Completion.of(Statuses.of(phase).ended(T0, result, endReason, 0).build());

    assertThat(c).isEqualTo(new Completion(wantResult, wantReason));
  }
}
