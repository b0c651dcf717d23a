package dev.drainguard.bench;

import dev.drainguard.config.ConfigLoader;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * A paper model of a mass scale-in: {@code workers × fraction} instances told to terminate at once,
 * each running the agent with its defaults, against an assumed Auto Scaling request limit.
 *
 * <p>What the agent does, from the code: on the notice (within one IMDS poll) it sends a heartbeat,
 * and while Auto Scaling answers "No active Lifecycle Action" (the load balancer is deregistering
 * the instance) it asks again every {@code actionRetry}; once the action is active it heartbeats
 * every min(heartbeat-interval, HeartbeatTimeout / 3) while data is queued, then completes once. In
 * service it calls nothing. The seeds' approach calls once per termination (the complete).
 *
 * @param assumedRate sustained Auto Scaling requests per second the account and region may make: an
 *     assumption, AWS does not publish these limits
 */
record FleetModel(
    int workers,
    double fraction,
    Duration deregistration,
    Duration heartbeatTimeout,
    Duration heartbeatInterval,
    Duration actionRetry,
    Duration meanDrain,
    double assumedRate) {

  /**
   * Defaults: AWS's (deregistration delay 300 s, HeartbeatTimeout 1 h) and the agent's, its
   * heartbeat-interval read from its own configuration defaults.
   */
  static FleetModel defaults(double assumedRate) {
    return new FleetModel(
        1_000,
        0.30,
        Duration.ofSeconds(300),
        Duration.ofHours(1),
        new ConfigLoader(Map.of(), Map.of(), Optional.empty())
            .loadWithoutFile()
            .heartbeatInterval(),
        Duration.ofSeconds(5),
        Duration.ofMinutes(15),
        assumedRate);
  }

  FleetModel withHeartbeatTimeout(Duration t) {
    return new FleetModel(
        workers,
        fraction,
        deregistration,
        t,
        heartbeatInterval,
        actionRetry,
        meanDrain,
        assumedRate);
  }

  FleetModel withDeregistration(Duration d) {
    return new FleetModel(
        workers,
        fraction,
        d,
        heartbeatTimeout,
        heartbeatInterval,
        actionRetry,
        meanDrain,
        assumedRate);
  }

  int terminating() {
    return (int) Math.round(workers * fraction);
  }

  /** min(heartbeat-interval, HeartbeatTimeout / 3), as the agent computes it. */
  Duration heartbeatEvery() {
    Duration third = heartbeatTimeout.dividedBy(3);
    return heartbeatInterval.compareTo(third) < 0 ? heartbeatInterval : third;
  }

  /** Heartbeats per HeartbeatTimeout while holding. */
  double heartbeatsPerTimeout() {
    return seconds(heartbeatTimeout) / seconds(heartbeatEvery());
  }

  /** Calls answered "not active yet", per instance, during the deregistration delay. */
  long awaitingCallsPerInstance() {
    return (long) Math.ceil(seconds(deregistration) / seconds(actionRetry));
  }

  /** Requests per second of the whole group while every instance awaits its action. */
  double awaitingRate() {
    return deregistration.isZero() ? 0 : terminating() / seconds(actionRetry);
  }

  /** Requests per second of the whole group while every instance holds. */
  double holdingRate() {
    return terminating() / seconds(heartbeatEvery());
  }

  /**
   * Every request of the scale-in: awaiting, first heartbeat, heartbeats while draining, complete.
   */
  long callsPerScaleIn() {
    long heartbeats = 1 + (long) Math.floor(seconds(meanDrain) / seconds(heartbeatEvery()));
    return terminating() * (awaitingCallsPerInstance() + heartbeats + 1);
  }

  double peakRate() {
    return Math.max(awaitingRate(), holdingRate());
  }

  /** The seeds' approach: one complete per termination, each at its own 60 s check. */
  double seedsPeakRate() {
    return terminating() / 60.0;
  }

  private static double seconds(Duration d) {
    return d.toMillis() / 1000.0;
  }
}
