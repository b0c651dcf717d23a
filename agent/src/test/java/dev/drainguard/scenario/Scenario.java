package dev.drainguard.scenario;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * One randomized scale-in, fully determined by its seed: the world's settings ({@link Params}) and
 * a schedule of events at offsets (whole seconds) from the start. A shrunk scenario keeps the
 * settings and drops events.
 */
record Scenario(long seed, Params params, List<Event> events) {

  Scenario {
    events = List.copyOf(events);
  }

  Scenario withEvents(List<Event> fewer) {
    return new Scenario(seed, params, fewer);
  }

  /**
   * The settings of the simulated group and of the agent.
   *
   * @param heartbeatTimeout the hook's HeartbeatTimeout, 30 s to 7200 s
   * @param heartbeatInterval the agent's configured heartbeat-interval; it uses min(this, HT/3)
   * @param policy deadline-policy: expire, complete or retain
   * @param groupRetains the group's TerminateHookAbandon=retain
   * @param defaultResult the hook's DefaultResult
   * @param deregistration time in Terminating before the action is active
   * @param coarseStep how far the clock moves per step when nothing is expected to happen
   * @param horizon when the scenario ends (offset from the start)
   */
  record Params(
      Duration heartbeatTimeout,
      Duration heartbeatInterval,
      Duration quietPeriod,
      Duration imdsPoll,
      long residualBytes,
      int roots,
      String policy,
      boolean groupRetains,
      String defaultResult,
      Duration deadlineMargin,
      Optional<Duration> maxHold,
      Duration deregistration,
      boolean protectWhileBusy,
      Duration coarseStep,
      Duration horizon) {

    /** What the agent uses: min(heartbeat-interval, HeartbeatTimeout / 3). */
    Duration effectiveHeartbeat() {
      Duration third = heartbeatTimeout.dividedBy(3);
      return heartbeatInterval.compareTo(third) < 0 ? heartbeatInterval : third;
    }

    /** The hook's global timeout: min(48 h, 100 × HeartbeatTimeout). */
    Duration globalTimeout() {
      Duration hundred = heartbeatTimeout.multipliedBy(100);
      Duration cap = Duration.ofHours(48);
      return hundred.compareTo(cap) < 0 ? hundred : cap;
    }

    /** The agent's deadline, counted from the moment it notices the termination. */
    Duration deadlineAfterNotice() {
      Duration d = globalTimeout().minus(deadlineMargin);
      return maxHold.filter(m -> m.compareTo(d) < 0).orElse(d);
    }

    @Override
    public String toString() {
      return String.format(
          "HT=%ss heartbeat-interval=%ss (every %s) quiet=%ss poll=%ss residual=%d roots=%d"
              + " policy=%s groupRetains=%s defaultResult=%s margin=%ss max-hold=%s dereg=%ss"
              + " protect=%s step=%ss horizon=%ss",
          heartbeatTimeout.toSeconds(),
          heartbeatInterval.toSeconds(),
          effectiveHeartbeat(),
          quietPeriod.toSeconds(),
          imdsPoll.toSeconds(),
          residualBytes,
          roots,
          policy,
          groupRetains,
          defaultResult,
          deadlineMargin.toSeconds(),
          maxHold.map(m -> m.toSeconds() + "s").orElse("none"),
          deregistration.toSeconds(),
          protectWhileBusy,
          coarseStep.toSeconds(),
          horizon.toSeconds());
    }
  }

  /** The schedule, one event per line, for a failure report. */
  String describe() {
    return "seed="
        + seed
        + "\n  "
        + params
        + "\n"
        + events.stream().map(e -> "  " + e).collect(Collectors.joining("\n"));
  }
}
