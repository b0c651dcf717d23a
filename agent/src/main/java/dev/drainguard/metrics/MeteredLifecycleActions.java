package dev.drainguard.metrics;

import dev.drainguard.lifecycle.ActionOutcome;
import dev.drainguard.lifecycle.GroupMembership;
import dev.drainguard.lifecycle.LifecycleActions;
import dev.drainguard.lifecycle.LifecycleHookRef;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.lifecycle.TerminationHook;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Counts and times each call of a {@link LifecycleActions}, then answers as it did (an exception is
 * counted and rethrown).
 *
 * <table>
 *   <caption>Labels of {@code drainguard_lifecycle_calls_total}</caption>
 *   <tr><th>operation</th><th>outcome</th><th>result</th></tr>
 *   <tr><td>heartbeat</td><td>accepted, no_active_action, error</td><td>none</td></tr>
 *   <tr><td>complete</td><td>accepted, no_active_action, error</td><td>continue, abandon</td></tr>
 *   <tr><td>describe_hooks, describe_instance</td><td>ok, error</td><td>none</td></tr>
 * </table>
 *
 * <p>Every series above is registered at 0 up front, so an alert on the first error works. The
 * timer {@code drainguard_lifecycle_call_seconds} has the labels operation and outcome.
 */
final class MeteredLifecycleActions implements LifecycleActions {

  static final String HEARTBEAT = "heartbeat";
  static final String COMPLETE = "complete";
  static final String DESCRIBE_HOOKS = "describe_hooks";
  static final String DESCRIBE_INSTANCE = "describe_instance";
  static final String TERMINATE = "terminate_instance";
  static final String PROTECT = "set_protection";
  static final String OK = "ok";
  static final String ERROR = "error";
  static final String NONE = "none";

  private final LifecycleActions delegate;
  private final MeterRegistry registry;

  MeteredLifecycleActions(LifecycleActions delegate, MeterRegistry registry) {
    this.delegate = delegate;
    this.registry = registry;
    for (ActionOutcome o : ActionOutcome.values()) {
      counter(HEARTBEAT, outcome(o), NONE);
      for (LifecycleResult r : LifecycleResult.values()) {
        counter(COMPLETE, outcome(o), result(r));
      }
    }
    counter(HEARTBEAT, ERROR, NONE);
    for (LifecycleResult r : LifecycleResult.values()) {
      counter(COMPLETE, ERROR, result(r));
    }
    for (String op : List.of(DESCRIBE_HOOKS, DESCRIBE_INSTANCE, TERMINATE, PROTECT)) {
      counter(op, OK, NONE);
      counter(op, ERROR, NONE);
    }
  }

  @Override
  public ActionOutcome heartbeat(LifecycleHookRef ref) {
    return call(HEARTBEAT, NONE, () -> delegate.heartbeat(ref), MeteredLifecycleActions::outcome);
  }

  @Override
  public ActionOutcome complete(LifecycleHookRef ref, LifecycleResult result) {
    return call(
        COMPLETE,
        result(result),
        () -> delegate.complete(ref, result),
        MeteredLifecycleActions::outcome);
  }

  @Override
  public List<TerminationHook> terminationHooks(String groupName) {
    return call(DESCRIBE_HOOKS, NONE, () -> delegate.terminationHooks(groupName), x -> OK);
  }

  @Override
  public Optional<TerminationHook> terminationHook(String groupName, String hookName) {
    return call(DESCRIBE_HOOKS, NONE, () -> delegate.terminationHook(groupName, hookName), x -> OK);
  }

  @Override
  public Optional<GroupMembership> describeInstance(String instanceId) {
    return call(DESCRIBE_INSTANCE, NONE, () -> delegate.describeInstance(instanceId), x -> OK);
  }

  @Override
  public void terminateInstance(String instanceId) {
    call(
        TERMINATE,
        NONE,
        () -> {
          delegate.terminateInstance(instanceId);
          return Boolean.TRUE;
        },
        x -> OK);
  }

  @Override
  public void setProtection(String groupName, String instanceId, boolean protectedFromScaleIn) {
    call(
        PROTECT,
        NONE,
        () -> {
          delegate.setProtection(groupName, instanceId, protectedFromScaleIn);
          return Boolean.TRUE;
        },
        x -> OK);
  }

  private <T> T call(
      String operation, String result, Supplier<T> op, Function<T, String> outcomeOf) {
    Timer.Sample sample = Timer.start(registry);
    String outcome = ERROR;
    try {
      T answer = op.get();
      outcome = outcomeOf.apply(answer);
      return answer;
    } finally {
      // An Error (not only a RuntimeException) is counted too before it propagates.
      counter(operation, outcome, result).increment();
      sample.stop(
          Timer.builder(AgentMetrics.LIFECYCLE_CALL_TIME)
              .description("Latency of Auto Scaling calls, retries included")
              .tags(Tags.of("operation", operation, "outcome", outcome))
              .register(registry));
    }
  }

  private Counter counter(String operation, String outcome, String result) {
    return Counter.builder(AgentMetrics.LIFECYCLE_CALLS)
        .description("Auto Scaling calls by operation, outcome and the result sent")
        .tags(Tags.of("operation", operation, "outcome", outcome, "result", result))
        .register(registry);
  }

  static String outcome(ActionOutcome o) {
    return o.name().toLowerCase(Locale.ROOT);
  }

  private static String result(LifecycleResult r) {
    return r.name().toLowerCase(Locale.ROOT);
  }
}
