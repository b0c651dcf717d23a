package dev.drainguard.drain;

import dev.drainguard.forecast.Forecast;
import dev.drainguard.imds.SpotNotice;
import dev.drainguard.imds.TargetLifecycleState;
import dev.drainguard.lifecycle.LifecycleHookRef;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.lifecycle.TerminationHook;
import dev.drainguard.queue.QueueSnapshot;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Everything an operator or a test may want to know about the controller at one moment.
 *
 * @param evaluatedAt the clock time of the controller's latest evaluation
 * @param emptySince when the queues last became empty; empty while they hold data
 * @param result what this agent sent to end the action, if it did
 * @param endReason why the controller reached its terminal phase
 * @param bytesAtEnd queued bytes when the terminal phase was reached
 * @param holdReason why an operator asked to hold, while that hold is in force
 * @param holdSince when that hold was asked for
 * @param releaseRequested true once an operator has released the action
 * @param retainedSince when the instance was abandoned into Terminating:Retained
 * @param scaleInProtected true while this agent holds the instance protected from scale-in
 * @param spotInterruption the spot interruption notice, once seen
 * @param rebalanceRecommendedAt the rebalance recommendation's notice time, once seen
 * @param eventCommands the events the on-termination command was started for
 * @param forecast the deciding probes' drain rate, time to empty and bytes at risk at the deadline
 * @param atRiskWarnedAt when the forecast first said data would be left at the deadline
 * @param hookReadAt when the hook's values in force were read (DescribeLifecycleHooks)
 */
public record DrainStatus(
    Instant evaluatedAt,
    Phase phase,
    TargetLifecycleState targetState,
    LifecycleHookRef ref,
    TerminationHook hook,
    DeadlinePolicy policy,
    QueueSnapshot queues,
    Optional<Instant> emptySince,
    int heartbeats,
    Optional<Instant> lastHeartbeat,
    Optional<Instant> nextHeartbeat,
    Optional<Instant> noticedAt,
    Optional<Instant> actionActiveSince,
    Optional<Instant> deadline,
    Optional<String> lastError,
    Optional<LifecycleResult> result,
    Optional<String> endReason,
    Optional<Instant> endedAt,
    long bytesAtEnd,
    Optional<String> holdReason,
    Optional<Instant> holdSince,
    boolean releaseRequested,
    Optional<Instant> retainedSince,
    boolean scaleInProtected,
    Optional<Instant> protectionChangedAt,
    Optional<SpotNotice> spotInterruption,
    Optional<Instant> rebalanceRecommendedAt,
    List<String> eventCommands,
    Forecast forecast,
    Optional<Instant> atRiskWarnedAt,
    Instant hookReadAt) {}
