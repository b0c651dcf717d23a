package dev.drainguard.scenario;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Shortens a failing schedule: removes events one at a time, keeping each removal after which the
 * scenario still fails, until no single removal keeps it failing (or the run budget is spent).
 */
final class Shrinker {

  private Shrinker() {}

  static Scenario shrink(Scenario failing, Predicate<Scenario> stillFails, int maxRuns) {
    List<Event> current = new ArrayList<>(failing.events());
    int runs = 0;
    boolean removed = true;
    while (removed && runs < maxRuns) {
      removed = false;
      for (int i = 0; i < current.size() && runs < maxRuns; ) {
        List<Event> candidate = new ArrayList<>(current);
        candidate.remove(i);
        runs++;
        if (stillFails.test(failing.withEvents(candidate))) {
          current = candidate;
          removed = true;
        } else {
          i++;
        }
      }
    }
    return failing.withEvents(current);
  }
}
