package dev.drainguard.scenario.core;

import dev.drainguard.drain.Intent;
import dev.drainguard.drain.Phase;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * How often each kind of fault and outcome occurred in a run of scenarios: what was exercised.
 * Counted as each scenario ends, so that a long run keeps no timelines.
 */
final class Coverage {

  private final Map<String, Long> counts = new TreeMap<>();

  /** Counts one scenario's features; from any thread. */
  synchronized void add(CoreScenariosTest.Result one) {
    List<CoreScenariosTest.Result> results = List.of(one);
    Map<String, Long> c = counts;
    count(
        c,
        results,
        "fault " + "hidden write",
        r -> r.timeline().queues.parcels().stream().anyMatch(Queues.Parcel::hidden));
    count(c, results, "fault phantom rename", r -> has(r, Plan.Change.Phantom.class));
    for (Plan.Fault f : Plan.Fault.values()) {
      count(
          c,
          results,
          "fault " + f,
          r ->
              r.plan().changes().stream()
                  .anyMatch(x -> x instanceof Plan.Change.Window w && w.fault() == f));
    }
    count(c, results, "fault PutLifecycleHook", r -> has(r, Plan.Change.PutHook.class));
    count(c, results, "fault restart", r -> has(r, Plan.Change.Restart.class));
    count(c, results, "fault operator", r -> !r.timeline().operator.isEmpty());
    count(c, results, "fault spot", r -> r.timeline().spotAt >= 0);
    count(c, results, "fault blip", r -> !r.plan().params().blipLength().isZero());
    count(c, results, "fault latency 15s", r -> r.plan().params().maxLatency().toSeconds() >= 15);
    count(
        c, results, "fault dereg>300s", r -> r.plan().params().deregistration().toSeconds() > 300);
    count(
        c,
        results,
        "fault quiet<probe-interval",
        r ->
            (r.plan().params().commandProbe() || r.plan().params().criblProbe())
                && r.plan().params().quietPeriod().compareTo(r.plan().params().probeInterval())
                    < 0);
    for (Phase p : Phase.values()) {
      count(
          c,
          results,
          "phase " + p,
          r -> r.timeline().phases.stream().anyMatch(x -> x.phase() == p));
    }
    count(
        c,
        results,
        "asked CONTINUE",
        r ->
            r.timeline().emitted.stream()
                .anyMatch(
                    e ->
                        e.intent() instanceof Intent.Call k
                            && k.kind() == Intent.CallKind.CONTINUE));
    count(
        c,
        results,
        "asked TERMINATE",
        r ->
            r.timeline().emitted.stream()
                .anyMatch(
                    e ->
                        e.intent() instanceof Intent.Call k
                            && k.kind() == Intent.CallKind.TERMINATE));
    count(
        c,
        results,
        "action timed out",
        r ->
            r.timeline()
                .actionEnd
                .filter(e -> e.kind() != dev.drainguard.sim.ActionEnd.Kind.COMPLETED)
                .isPresent());
    results.stream()
        .flatMap(x -> x.timeline().excused.stream().distinct())
        .forEach(e -> c.merge("excused " + e, 1L, Long::sum));
  }

  @Override
  public synchronized String toString() {
    StringBuilder b = new StringBuilder("scenario coverage (scenarios with):");
    counts.forEach((k, v) -> b.append("\n  ").append(k).append(": ").append(v));
    return b.toString();
  }

  private static boolean has(CoreScenariosTest.Result r, Class<?> kind) {
    return r.plan().changes().stream().anyMatch(kind::isInstance);
  }

  private static void count(
      Map<String, Long> c,
      List<CoreScenariosTest.Result> results,
      String name,
      Predicate<CoreScenariosTest.Result> p) {
    c.merge(name, results.stream().filter(p).count(), Long::sum);
  }
}
