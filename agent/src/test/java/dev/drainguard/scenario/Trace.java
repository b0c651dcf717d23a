package dev.drainguard.scenario;

import dev.drainguard.drain.DrainStatus;
import dev.drainguard.sim.ActionEnd;
import dev.drainguard.sim.ApiCall;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What happened in one run of a scenario: the test's own record of the queues, every agent that
 * ran, and what the simulator saw. The invariants are judged on this alone.
 *
 * @param changes every change of the queues, in order, as the test made it (not as the agent saw
 *     it)
 * @param agents every agent that ran, in order
 * @param calls every Auto Scaling request the simulator answered
 * @param actionStart when the lifecycle action became active (Terminating:Wait), if it did
 * @param retainedAt when the instance entered Terminating:Retained, if it did
 * @param logs the agents' WARN and ERROR lines about this instance
 * @param problems what the runner itself saw go wrong (an agent that stopped evaluating, one whose
 *     view of the queues never caught up, one that failed to start)
 */
record Trace(
    Scenario scenario,
    String instanceId,
    Instant start,
    Instant end,
    List<QueueChange> changes,
    List<Incarnation> agents,
    List<ApiCall> calls,
    Optional<Instant> scaleInAt,
    Optional<Instant> actionStart,
    Optional<ActionEnd> actionEnd,
    Optional<Instant> retainedAt,
    Optional<Instant> terminatedAt,
    List<String> logs,
    List<String> problems,
    int steps) {

  /**
   * The queues right after one change.
   *
   * @param callIndex how many Auto Scaling requests had been answered before the change: a request
   *     with a lower index saw the queues as they were before it
   * @param bytes bytes queued per root
   */
  record QueueChange(Instant at, int callIndex, List<Long> bytes) {}

  /**
   * One agent's life.
   *
   * @param stop when it was stopped; the end of the scenario if it ran to the end
   * @param statuses every status it published (on each change), in order
   */
  record Incarnation(Instant start, Instant stop, List<DrainStatus> statuses) {

    boolean aliveAt(Instant t) {
      return !t.isBefore(start) && t.isBefore(stop);
    }

    /** The last status published at or before {@code t}. */
    Optional<DrainStatus> statusAt(Instant t) {
      DrainStatus found = null;
      for (DrainStatus s : statuses) {
        if (s.evaluatedAt().isAfter(t)) {
          break;
        }
        found = s;
      }
      return Optional.ofNullable(found);
    }
  }

  Duration offset(Instant t) {
    return Duration.between(start, t);
  }

  /** "+123s" for a report. */
  String at(Instant t) {
    Duration d = offset(t);
    return "+" + (d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms");
  }
}
