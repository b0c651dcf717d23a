package dev.drainguard.bench;

import java.time.Duration;

/**
 * The seeds' approach, modelled faithfully: a check every {@code checkEvery} (60 s), at a phase of
 * its own, that sends CompleteLifecycleAction only when no queue file exists, and otherwise sends
 * nothing (no heartbeat), so that the hook runs out after {@code heartbeatTimeout} from the start
 * of the action. Time is counted from the start of the lifecycle action.
 */
record SeedsModel(Duration checkEvery, Duration heartbeatTimeout) {

  static final Duration CHECK_EVERY = Duration.ofSeconds(60);

  /** What the seeds' hook used: the AWS default, one hour. */
  static final Duration AWS_DEFAULT_HEARTBEAT_TIMEOUT = Duration.ofHours(1);

  /**
   * One termination.
   *
   * @param wastedSeconds instance time after the queue drained, until the action ended
   * @param dataLost the hook ran out while data was still queued
   */
  record Outcome(double wastedSeconds, boolean dataLost) {}

  /**
   * @param drainedAfter seconds from the start of the action until the last queued byte was removed
   * @param phase seconds from the start of the action until the check's first run, in [0,
   *     checkEvery)
   */
  Outcome termination(double drainedAfter, double phase) {
    double every = checkEvery.toMillis() / 1000.0;
    double timeout = heartbeatTimeout.toMillis() / 1000.0;
    if (phase < 0 || phase >= every || drainedAfter < 0) {
      throw new IllegalArgumentException("phase " + phase + " drainedAfter " + drainedAfter);
    }
    if (drainedAfter >= timeout) {
      return new Outcome(0, true);
    }
    double firstCheck =
        drainedAfter <= phase ? phase : phase + Math.ceil((drainedAfter - phase) / every) * every;
    if (firstCheck >= timeout) {
      return new Outcome(timeout - drainedAfter, false);
    }
    return new Outcome(firstCheck - drainedAfter, false);
  }
}
