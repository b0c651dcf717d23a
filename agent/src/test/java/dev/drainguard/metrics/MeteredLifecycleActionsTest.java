package dev.drainguard.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drainguard.lifecycle.ActionOutcome;
import dev.drainguard.lifecycle.GroupMembership;
import dev.drainguard.lifecycle.LifecycleActions;
import dev.drainguard.lifecycle.LifecycleApiException;
import dev.drainguard.lifecycle.LifecycleHookRef;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.lifecycle.TerminationHook;
import dev.drainguard.testing.MutableClock;
import io.micrometer.core.instrument.MockClock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class MeteredLifecycleActionsTest {

  private static final LifecycleHookRef REF = Statuses.REF;

  private final MockClock meterClock = new MockClock();
  private final AgentMetrics metrics =
      new AgentMetrics(MutableClock.atNewYear(), "test", meterClock);
  private final FakeActions fake = new FakeActions();
  private final LifecycleActions api = metrics.instrument(fake);

  /** Answers each call with the next scripted outcome, or throws it when it is an exception. */
  private final class FakeActions implements LifecycleActions {
    final Deque<Object> script = new ArrayDeque<>();
    int calls;

    private Object next() {
      calls++;
      meterClock.add(Duration.ofMillis(250)); // each call "takes" 250 ms
      Object o = script.removeFirst();
      if (o instanceof RuntimeException e) {
        throw e;
      }
      return o;
    }

    @Override
    public ActionOutcome heartbeat(LifecycleHookRef ref) {
      return (ActionOutcome) next();
    }

    @Override
    public ActionOutcome complete(LifecycleHookRef ref, LifecycleResult result) {
      return (ActionOutcome) next();
    }

    @Override
    @SuppressWarnings("unchecked")
    public List<TerminationHook> terminationHooks(String groupName) {
      return (List<TerminationHook>) next();
    }

    @Override
    @SuppressWarnings("unchecked")
    public Optional<GroupMembership> describeInstance(String instanceId) {
      return (Optional<GroupMembership>) next();
    }

    @Override
    public void terminateInstance(String instanceId) {
      next();
    }

    @Override
    public void setProtection(String groupName, String instanceId, boolean protectedFromScaleIn) {
      next();
    }
  }

  private double calls(String operation, String outcome, String result) {
    return new Scrape(metrics.scrape())
        .get(
            "drainguard_lifecycle_calls_total",
            "operation",
            operation,
            "outcome",
            outcome,
            "result",
            result);
  }

  @Test
  void heartbeat_countsEachCallByOutcomeAndAnswersAsTheDelegate() {
    fake.script.addAll(
        List.of(ActionOutcome.ACCEPTED, ActionOutcome.ACCEPTED, ActionOutcome.NO_ACTIVE_ACTION));

    assertThat(api.heartbeat(REF)).isEqualTo(ActionOutcome.ACCEPTED);
    assertThat(api.heartbeat(REF)).isEqualTo(ActionOutcome.ACCEPTED);
    assertThat(api.heartbeat(REF)).isEqualTo(ActionOutcome.NO_ACTIVE_ACTION);

    assertThat(fake.calls).isEqualTo(3);
    assertThat(calls("heartbeat", "accepted", "none")).isEqualTo(2.0);
    assertThat(calls("heartbeat", "no_active_action", "none")).isEqualTo(1.0);
    assertThat(calls("heartbeat", "error", "none")).isZero();
  }

  @Test
  void heartbeat_anExceptionIsRethrownAndCountedAsError() {
    LifecycleApiException failure =
        new LifecycleApiException("heartbeat for " + REF + ": AccessDenied", "AccessDenied", null);
    fake.script.add(failure);

    assertThatThrownBy(() -> api.heartbeat(REF)).isSameAs(failure);
    assertThat(calls("heartbeat", "error", "none")).isEqualTo(1.0);
    assertThat(calls("heartbeat", "accepted", "none")).isZero();
  }

  @Test
  void complete_isCountedWithTheResultSent() {
    fake.script.addAll(
        List.of(
            ActionOutcome.ACCEPTED,
            new LifecycleApiException("complete", null, null),
            ActionOutcome.NO_ACTIVE_ACTION));

    api.complete(REF, LifecycleResult.CONTINUE);
    assertThatThrownBy(() -> api.complete(REF, LifecycleResult.ABANDON))
        .isInstanceOf(LifecycleApiException.class);
    api.complete(REF, LifecycleResult.CONTINUE);

    assertThat(calls("complete", "accepted", "continue")).isEqualTo(1.0);
    assertThat(calls("complete", "error", "abandon")).isEqualTo(1.0);
    assertThat(calls("complete", "no_active_action", "continue")).isEqualTo(1.0);
    assertThat(calls("complete", "accepted", "abandon")).isZero();
  }

  @Test
  void describeCalls_areCountedOkOrError() {
    fake.script.addAll(
        List.of(
            List.of(Statuses.HOOK),
            Optional.empty(),
            new LifecycleApiException("describe", "AccessDenied", null)));

    assertThat(api.terminationHooks("workers")).containsExactly(Statuses.HOOK);
    assertThat(api.describeInstance("i-1")).isEmpty();
    assertThatThrownBy(() -> api.describeInstance("i-1")).isInstanceOf(LifecycleApiException.class);

    assertThat(calls("describe_hooks", "ok", "none")).isEqualTo(1.0);
    assertThat(calls("describe_instance", "ok", "none")).isEqualTo(1.0);
    assertThat(calls("describe_instance", "error", "none")).isEqualTo(1.0);
  }

  @Test
  void everyCall_isTimedByOperationAndOutcome() {
    fake.script.addAll(List.of(ActionOutcome.ACCEPTED, ActionOutcome.ACCEPTED));
    api.heartbeat(REF);
    api.heartbeat(REF);

    var timer =
        metrics
            .registry()
            .get("drainguard.lifecycle.call")
            .tags("operation", "heartbeat", "outcome", "accepted")
            .timer();
    assertThat(timer.count()).isEqualTo(2);
    assertThat(timer.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(500.0);
    assertThat(
            new Scrape(metrics.scrape())
                .get(
                    "drainguard_lifecycle_call_seconds_sum",
                    "operation",
                    "heartbeat",
                    "outcome",
                    "accepted"))
        .isEqualTo(0.5);
  }
}
