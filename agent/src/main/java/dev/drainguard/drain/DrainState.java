package dev.drainguard.drain;

import dev.drainguard.imds.SpotNotice;
import dev.drainguard.imds.TargetLifecycleState;
import dev.drainguard.lifecycle.LifecycleHookRef;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.lifecycle.TerminationHook;
import dev.drainguard.queue.QueueSnapshot;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything the drain knows and has done, shared by the controller and the flows it delegates to
 * ({@link Retention}, {@link SpotNotices}). Mutated only on the drain loop's thread; {@link
 * #toStatus} turns it into the immutable {@link DrainStatus} that other threads read.
 */
final class DrainState {

  private static final Logger log = LoggerFactory.getLogger(DrainController.class);

  final LifecycleHookRef ref;

  Phase phase = Phase.IN_SERVICE;
  TargetLifecycleState target = TargetLifecycleState.IN_SERVICE;
  QueueSnapshot snapshot;
  Instant emptySince;
  Instant evaluatedAt;
  Instant noticedAt;
  Instant actionActiveSince;
  Instant deadline;

  /**
   * No complete, abandon, describe or terminate call before this instant: a failed call cools down
   * (see CALL_RETRY).
   */
  Instant nextCall = Instant.MIN;

  /**
   * No heartbeat before this instant. Separate from {@link #nextCall} so that heartbeats go on
   * while a complete or abandon is being retried: the hook must not time out meanwhile.
   */
  Instant nextHeartbeatCall = Instant.MIN;

  int heartbeats;
  Instant lastHeartbeat;
  Instant drainedAt;
  CompletableFuture<CommandRunner.CommandResult> command;
  boolean commandRan;
  String lastError;

  String holdReason;
  Instant holdSince;
  String releaseReason;
  boolean releaseForced;
  volatile boolean stopping;

  Instant retainedSince;
  SpotNotice spotInterruption;
  Instant rebalanceAt;

  LifecycleResult result;
  String endReason;
  Instant endedAt;
  long bytesAtEnd;

  DrainState(LifecycleHookRef ref, QueueSnapshot first, Instant now) {
    this.ref = ref;
    this.evaluatedAt = now;
    observe(first);
  }

  /**
   * Takes in a snapshot. Snapshots are taken in the order they arrive, not by their time: one from
   * the listener may arrive after a fresher one read by a tick, and its verdict still counts (a
   * brief non-empty moment restarts the quiet period). Every decision re-reads the probe first, so
   * it is always made on the freshest snapshot.
   */
  void observe(QueueSnapshot s) {
    snapshot = s;
    if (!s.empty()) {
      emptySince = null;
    } else if (emptySince == null) {
      emptySince = s.takenAt();
    }
  }

  /** Every queue has been empty for at least {@code quiet}. */
  boolean drainedFor(Instant now, Duration quiet) {
    return snapshot.empty() && emptySince != null && !now.isBefore(emptySince.plus(quiet));
  }

  /** Reaches a terminal phase, logging once: at ERROR unless it completed with nothing queued. */
  void end(Instant now, Phase terminal, LifecycleResult sent, String reason) {
    phase = terminal;
    result = sent != null ? sent : result; // an ABANDON already sent stays on record
    endReason = reason;
    endedAt = now;
    bytesAtEnd = snapshot.totalBytes();
    if (terminal == Phase.COMPLETED && bytesAtEnd == 0) {
      log.info("lifecycle action completed result={} {} reason=\"{}\"", sent, ref, reason);
    } else {
      log.error(
          "drain ended phase={} result={} {} bytesAtRisk={} reason=\"{}\"",
          terminal,
          sent,
          ref,
          bytesAtEnd,
          reason);
    }
  }

  /**
   * Whether an operator's release still stands, judged on {@code fresh}: a release that was not
   * forced was accepted because the queues were empty, and is dropped if data came back before it
   * could be carried out.
   */
  boolean releaseStands(QueueSnapshot fresh) {
    observe(fresh);
    if (releaseForced || snapshot.empty()) {
      return true;
    }
    log.warn(
        "operator release dropped {}: {} bytes are queued again since it was given; holding",
        ref,
        snapshot.totalBytes());
    releaseReason = null;
    return false;
  }

  /** A failed call: shown as the last error; the caller decides when to try again. */
  void error(String operation, RuntimeException e) {
    lastError = e.getMessage();
    log.warn("{} failed, will retry: {}", operation, e.getMessage());
  }

  /** The environment every operator command gets. */
  Map<String, String> commandEnv(Phase at) {
    return Map.of(
        "DRAINGUARD_PHASE", at.name(),
        "DRAINGUARD_INSTANCE_ID", ref.instanceId(),
        "DRAINGUARD_ASG_NAME", ref.groupName(),
        "DRAINGUARD_HOOK_NAME", ref.hookName(),
        "DRAINGUARD_QUEUED_BYTES", Long.toString(snapshot.totalBytes()));
  }

  DrainStatus toStatus(
      TerminationHook hook,
      DeadlinePolicy policy,
      Duration heartbeatEvery,
      ScaleInProtection protection,
      List<String> eventCommands) {
    Optional<Instant> next =
        phase == Phase.HOLDING || phase == Phase.DRAINED
            ? Optional.ofNullable(lastHeartbeat).map(h -> h.plus(heartbeatEvery))
            : Optional.empty();
    return new DrainStatus(
        evaluatedAt,
        phase,
        target,
        ref,
        hook,
        policy,
        snapshot,
        Optional.ofNullable(emptySince),
        heartbeats,
        Optional.ofNullable(lastHeartbeat),
        next,
        Optional.ofNullable(noticedAt),
        Optional.ofNullable(actionActiveSince),
        Optional.ofNullable(deadline),
        Optional.ofNullable(lastError),
        Optional.ofNullable(result),
        Optional.ofNullable(endReason),
        Optional.ofNullable(endedAt),
        bytesAtEnd,
        Optional.ofNullable(holdReason),
        Optional.ofNullable(holdSince),
        releaseReason != null,
        Optional.ofNullable(retainedSince),
        protection.active(),
        protection.changedAt(),
        Optional.ofNullable(spotInterruption),
        Optional.ofNullable(rebalanceAt),
        eventCommands);
  }
}
