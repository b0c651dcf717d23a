package dev.drainguard.scenario;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Shortens a failing schedule: removes events one at a time, keeping each removal after which the
 * scenario still fails, until no single removal keeps it failing (or the run budget is spent).
 * Shared by the agent scenarios and the decision-core scenarios ({@code scenario.core}).
 */
public final class Shrinker {

  private Shrinker() {}

  static Scenario shrink(Scenario failing, Predicate<Scenario> stillFails, int maxRuns) {
    return failing.withEvents(
        shrink(failing.events(), e -> stillFails.test(failing.withEvents(e)), maxRuns));
  }

  /** The shortest sublist of {@code events} found for which {@code stillFails} holds. */
  public static <E> List<E> shrink(List<E> events, Predicate<List<E>> stillFails, int maxRuns) {
    List<E> current = new ArrayList<>(events);
    int runs = 0;
    boolean removed = true;
    while (removed && runs < maxRuns) {
      removed = false;
      for (int i = 0; i < current.size() && runs < maxRuns; ) {
        List<E> candidate = new ArrayList<>(current);
        candidate.remove(i);
        runs++;
        if (stillFails.test(candidate)) {
          current = candidate;
          removed = true;
        } else {
          i++;
        }
      }
    }
    return current;
  }
}
