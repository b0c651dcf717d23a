package dev.drainguard.bench;

import dev.drainguard.config.ConfigLoader;
import dev.drainguard.net.JitteredBackoff;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * A paper model of a mass scale-in: {@code workers × fraction} instances told to terminate at once,
 * each running the agent with its defaults, against an assumed Auto Scaling request limit.
 *
 * <p>What the agent does: it notices the termination within one IMDS poll (each agent's poll has
 * its own phase) and asks at once whether its action is active; while Auto Scaling answers "No
 * active Lifecycle Action" (the load balancer is deregistering the instance) it asks again after a
 * pause drawn from {@link JitteredBackoff#NOT_ACTIVE_YET}, capped at a third of the
 * HeartbeatTimeout; each round costs {@code callsPerRound} requests (the heartbeat, and the
 * DescribeAutoScalingInstances that says why it was refused). Once the action is active it
 * heartbeats every min(heartbeat-interval, HeartbeatTimeout / 3) while data is queued, then
 * completes once. In service it calls nothing. The seeds' approach calls once per termination.
 *
 * <p>The jittered rounds are drawn, not averaged: each agent gets its own random source split from
 * {@code seed}, so every figure is the same on every run.
 *
 * @param callsPerRound requests per "not active yet" round: 2 (heartbeat and describe), or 1 for an
 *     agent that asks only the describe while it says {@code Terminating}
 * @param imdsPoll the IMDS poll interval: the agents' notices are spread over one poll
 * @param assumedRate sustained Auto Scaling requests per second the account and region may make: an
 *     assumption, AWS does not publish these limits
 */
record FleetModel(
    int workers,
    double fraction,
    Duration deregistration,
    Duration heartbeatTimeout,
    Duration heartbeatInterval,
    JitteredBackoff backoff,
    int callsPerRound,
    Duration imdsPoll,
    Duration meanDrain,
    double assumedRate,
    long seed) {

  /** The window over which a burst is averaged: the first minute after the notices. */
  static final Duration BURST_WINDOW = Duration.ofSeconds(60);

  /**
   * Defaults: AWS's (deregistration delay 300 s, HeartbeatTimeout 1 h) and the agent's, its
   * heartbeat-interval and IMDS poll read from its own configuration defaults.
   */
  static FleetModel defaults(double assumedRate) {
    var cfg = new ConfigLoader(Map.of(), Map.of(), Optional.empty()).loadWithoutFile();
    return new FleetModel(
        1_000,
        0.30,
        Duration.ofSeconds(300),
        Duration.ofHours(1),
        cfg.heartbeatInterval(),
        JitteredBackoff.NOT_ACTIVE_YET,
        2,
        cfg.imdsPollInterval(),
        Duration.ofMinutes(15),
        assumedRate,
        1L);
  }

  FleetModel withHeartbeatTimeout(Duration t) {
    return new FleetModel(
        workers,
        fraction,
        deregistration,
        t,
        heartbeatInterval,
        backoff,
        callsPerRound,
        imdsPoll,
        meanDrain,
        assumedRate,
        seed);
  }

  FleetModel withDeregistration(Duration d) {
    return new FleetModel(
        workers,
        fraction,
        d,
        heartbeatTimeout,
        heartbeatInterval,
        backoff,
        callsPerRound,
        imdsPoll,
        meanDrain,
        assumedRate,
        seed);
  }

  FleetModel withCallsPerRound(int n) {
    return new FleetModel(
        workers,
        fraction,
        deregistration,
        heartbeatTimeout,
        heartbeatInterval,
        backoff,
        n,
        imdsPoll,
        meanDrain,
        assumedRate,
        seed);
  }

  int terminating() {
    return (int) Math.round(workers * fraction);
  }

  /** min(heartbeat-interval, HeartbeatTimeout / 3), as the agent computes it. */
  Duration heartbeatEvery() {
    Duration third = heartbeatTimeout.dividedBy(3);
    return heartbeatInterval.compareTo(third) < 0 ? heartbeatInterval : third;
  }

  /** The "not active yet" schedule as the agent uses it: no pause over HeartbeatTimeout / 3. */
  JitteredBackoff schedule() {
    return backoff.cappedAt(heartbeatTimeout.dividedBy(3));
  }

  /** Heartbeats per HeartbeatTimeout while holding. */
  double heartbeatsPerTimeout() {
    return seconds(heartbeatTimeout) / seconds(heartbeatEvery());
  }

  /**
   * What the fleet asks while the load balancers deregister.
   *
   * @param callsPerInstance mean requests of one agent before its action is active
   * @param burstRate requests/s of the group over the first minute (every agent's first rounds)
   * @param sustainedRate requests/s of the group from the end of the first minute to the end of the
   *     delay, once the agents have spread out; 0 when the delay is a minute or less
   * @param meanRate requests/s of the group over the whole delay
   * @param firstHeartbeatMean mean time from the action becoming active to the first heartbeat
   * @param firstHeartbeatMax the longest such time in the fleet
   */
  record Awaiting(
      double callsPerInstance,
      double burstRate,
      double sustainedRate,
      double meanRate,
      Duration firstHeartbeatMean,
      Duration firstHeartbeatMax) {}

  /** Every agent's rounds drawn over the delay. */
  Awaiting awaiting() {
    long delayMs = deregistration.toMillis();
    long burstMs = Math.min(BURST_WINDOW.toMillis(), delayMs);
    JitteredBackoff schedule = schedule();
    SplittableRandom fleet = new SplittableRandom(seed);
    long total = 0;
    long inBurst = 0;
    long lateMs = 0;
    long maxLateMs = 0;
    for (int agent = 0; agent < terminating(); agent++) {
      SplittableRandom random = fleet.split();
      long t = random.nextLong(imdsPoll.toMillis());
      for (int failed = 1; t < delayMs; failed++) {
        total += callsPerRound;
        if (t < burstMs) {
          inBurst += callsPerRound;
        }
        t += schedule.delay(failed, random).toMillis();
      }
      lateMs += t - delayMs;
      maxLateMs = Math.max(maxLateMs, t - delayMs);
    }
    int n = terminating();
    long sustainedMs = delayMs - burstMs;
    return new Awaiting(
        (double) total / n,
        burstMs == 0 ? 0 : inBurst * 1000.0 / burstMs,
        sustainedMs == 0 ? 0 : (total - inBurst) * 1000.0 / sustainedMs,
        delayMs == 0 ? 0 : total * 1000.0 / delayMs,
        Duration.ofMillis(lateMs / n),
        Duration.ofMillis(maxLateMs));
  }

  /** The agent's earlier schedule: a request every 5 s, one per round, for the whole delay. */
  double fixedFiveSecondRate() {
    return deregistration.isZero() ? 0 : terminating() / 5.0;
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
    return Math.round(terminating() * (awaiting().callsPerInstance() + heartbeats + 1));
  }

  /** The highest rate the group sustains: after the first minute of deregistration, or holding. */
  double sustainedPeakRate() {
    return Math.max(awaiting().sustainedRate(), holdingRate());
  }

  /** The seeds' approach: one complete per termination, each at its own 60 s check. */
  double seedsPeakRate() {
    return terminating() / 60.0;
  }

  private static double seconds(Duration d) {
    return d.toMillis() / 1000.0;
  }
}
