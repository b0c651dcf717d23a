package dev.drainguard.drain;

import dev.drainguard.forecast.Forecast;
import dev.drainguard.imds.SpotNotice;
import dev.drainguard.imds.TargetLifecycleState;
import dev.drainguard.lifecycle.LifecycleHookRef;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.lifecycle.TerminationHook;
import dev.drainguard.queue.ProbeReading;
import dev.drainguard.queue.QueueSnapshot;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything the drain knows and has done, shared by the controller and the flows it delegates to
 * ({@link Termination}, {@link Retention}, {@link SpotNotices}). Touched only on the decision
 * thread; {@link #toStatus} turns it into the immutable {@link DrainStatus} other threads read.
 */
final class DrainState {

  private static final Logger log = LoggerFactory.getLogger(DrainController.class);

  LifecycleHookRef ref;
  final Evidence evidence;
  final Calls calls = new Calls(() -> ref);

  /** The intents asked for during the current step; handed to the executors after it. */
  final List<Intent> out = new ArrayList<>();

  Phase phase = Phase.IN_SERVICE;
  TargetLifecycleState target = TargetLifecycleState.IN_SERVICE;
  TerminationHook hook;
  Instant hookReadAt;

  /** The group has no termination hook (yet): scale-in is not held until one is found. */
  boolean hookMissing;

  /** The hook is to be read again (termination noticed, or a surprising answer). */
  boolean hookRereadWanted;

  Duration heartbeatEvery;

  /** The evidence combined at the current step's instant; set at the start of every step. */
  QueueSnapshot snapshot;

  Instant evaluatedAt;
  Instant noticedAt;
  Instant actionActiveSince;
  Instant deadline;

  /**
   * The earliest instant the hook's global timeout may have started counting: the last IMDS read
   * before the notice, moved forward while Auto Scaling says the instance is still deregistering.
   */
  Instant globalFrom;

  /** {@link #globalFrom} moved: the deadline is to be computed again. */
  boolean deadlineWanted;

  int heartbeats;
  Instant lastHeartbeat;
  Instant drainedAt;
  boolean commandRunning;
  boolean commandRan;
  String lastError;

  String holdReason;
  Instant holdSince;
  String releaseReason;
  boolean releaseForced;
  Instant releasedAt;
  volatile boolean stopping;

  Instant retainedSince;

  /** The drain rate, time to empty and bytes at risk as of the latest step. */
  Forecast forecast;

  /** When the forecast first said data would be left at the deadline. */
  Instant atRiskWarnedAt;

  SpotNotice spotInterruption;
  Instant rebalanceAt;

  LifecycleResult result;
  String endReason;
  Instant endedAt;
  long bytesAtEnd;

  DrainState(LifecycleHookRef ref, TerminationHook hook, Evidence evidence, Instant now) {
    this.ref = ref;
    this.hook = hook;
    this.hookReadAt = now;
    this.evidence = evidence;
    this.evaluatedAt = now;
    this.snapshot = evidence.verdict(now);
    this.forecast = Forecast.unknown(now);
  }

  /** Reaches a terminal phase, logging once: at ERROR unless it completed with nothing queued. */
  void end(Instant now, Phase terminal, LifecycleResult sent, String reason) {
    phase = terminal;
    result = sent != null ? sent : result; // an ABANDON already sent stays on record
    endReason = reason;
    endedAt = now;
    bytesAtEnd = snapshot.totalBytes();
    if (terminal == Phase.COMPLETED && bytesAtEnd == 0 && !snapshot.anyError()) {
      log.info("lifecycle action completed result={} {} reason=\"{}\"", sent, ref, reason);
    } else {
      log.error(
          "drain ended phase={} result={} {} bytesAtRisk={} probes={} reason=\"{}\"",
          terminal,
          sent,
          ref,
          bytesAtEnd,
          describe(snapshot),
          reason);
    }
  }

  /** A failed call: shown as the last error; the caller decides when to try again. */
  void error(String operation, String message) {
    lastError = message;
    log.warn("{} failed, will retry: {}", operation, message);
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

  /** What the deciding probes say, for one log line: {@code files=0B command=unknown(...)}. */
  static String describe(QueueSnapshot s) {
    return s.probes().stream()
        .filter(ProbeReading::deciding)
        .map(
            p ->
                p.probe()
                    + "="
                    + p.unknown().map(u -> "unknown").orElse(p.bytes() + "B")
                    + (p.probe().equals(ProbeReading.FILES) ? "/" + s.totalFiles() + "files" : ""))
        .collect(Collectors.joining(","));
  }

  DrainStatus toStatus(
      DeadlinePolicy policy, ScaleInProtection protection, List<String> eventCommands) {
    Optional<Instant> next =
        phase == Phase.HOLDING || phase == Phase.DRAINED
            ? Optional.ofNullable(lastHeartbeat).map(h -> h.plus(heartbeatEvery))
            : Optional.empty();
    Optional<Instant> emptySince =
        snapshot.empty() ? Optional.of(evidence.lastNotEmpty()) : Optional.empty();
    return new DrainStatus(
        evaluatedAt,
        phase,
        target,
        ref,
        hook,
        policy,
        snapshot,
        emptySince,
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
        eventCommands,
        forecast,
        Optional.ofNullable(atRiskWarnedAt),
        hookReadAt);
  }
}
