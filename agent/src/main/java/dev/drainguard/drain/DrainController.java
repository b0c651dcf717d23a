package dev.drainguard.drain;

import dev.drainguard.imds.ImdsException;
import dev.drainguard.imds.InstanceMetadata;
import dev.drainguard.imds.TargetLifecycleState;
import dev.drainguard.lifecycle.ActionOutcome;
import dev.drainguard.lifecycle.LifecycleActions;
import dev.drainguard.lifecycle.LifecycleApiException;
import dev.drainguard.lifecycle.LifecycleHookRef;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.lifecycle.TerminationHook;
import dev.drainguard.queue.QueueProbe;
import dev.drainguard.queue.QueueSnapshot;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The only place that decides. It reads facts (the target lifecycle state, queue snapshots), keeps
 * the phase, and calls the lifecycle API. It is driven by {@link DrainLoop} on one thread: {@link
 * #tick()} and {@link #onQueues(QueueSnapshot)} are never called concurrently.
 *
 * <p>It keeps no state across restarts: a restarted agent reads Terminated from IMDS, heartbeats,
 * and so resumes holding. Nothing here runs on shutdown: stopping the agent never completes the
 * action.
 */
public final class DrainController {

  private static final Logger log = LoggerFactory.getLogger(DrainController.class);

  /**
   * While the action is not active yet, how often to ask again: short enough that holding starts
   * within seconds of Terminating:Wait, long enough that a 15 min grace costs under 200 calls.
   */
  static final Duration ACTION_RETRY = Duration.ofSeconds(5);

  /**
   * After a failed call to the lifecycle API, how soon to try again: well inside the shortest
   * heartbeat timeout (30 s), so a passing fault never lets the hook time out.
   */
  static final Duration CALL_RETRY = Duration.ofSeconds(5);

  private final DrainSettings settings;
  private final InstanceMetadata imds;
  private final LifecycleActions api;
  private final LifecycleHookRef ref;
  private final TerminationHook hook;
  private final QueueProbe queues;
  private final CommandRunner commands;
  private final Clock clock;
  private final Consumer<DrainStatus> listener;
  private final Duration heartbeatEvery;

  private Phase phase = Phase.IN_SERVICE;
  private TargetLifecycleState target = TargetLifecycleState.IN_SERVICE;
  private QueueSnapshot snapshot;
  private Instant emptySince;
  private Instant nextImdsPoll = Instant.MIN;
  private Instant noticedAt;
  private Instant actionActiveSince;
  private Instant deadline;
  private Instant nextCall;
  private int heartbeats;
  private Instant lastHeartbeat;
  private Instant drainedAt;
  private CompletableFuture<CommandRunner.CommandResult> command;
  private boolean commandRan;
  private String lastError;
  private LifecycleResult result;
  private String endReason;
  private Instant endedAt;
  private long bytesAtEnd;
  private Instant evaluatedAt;
  private volatile DrainStatus status;

  public DrainController(
      DrainSettings settings,
      InstanceMetadata imds,
      LifecycleActions api,
      LifecycleHookRef ref,
      TerminationHook hook,
      QueueProbe queues,
      CommandRunner commands,
      Clock clock,
      Consumer<DrainStatus> listener) {
    this.settings = settings;
    this.imds = imds;
    this.api = api;
    this.ref = ref;
    this.hook = hook;
    this.queues = queues;
    this.commands = commands;
    this.clock = clock;
    this.listener = listener;
    this.heartbeatEvery = heartbeatInterval(settings.heartbeatInterval(), hook.heartbeatTimeout());
    this.snapshot = queues.snapshot();
    this.evaluatedAt = clock.instant();
    observe(snapshot);
    this.status = build();
  }

  /** min(configured, HeartbeatTimeout / 3): three chances before the hook can time out. */
  public static Duration heartbeatInterval(Duration configured, Duration heartbeatTimeout) {
    Duration third = heartbeatTimeout.dividedBy(3);
    return configured.compareTo(third) < 0 ? configured : third;
  }

  /** The latest status; safe from any thread. */
  public DrainStatus status() {
    return status;
  }

  /** A new queue judgement from the probe. */
  public void onQueues(QueueSnapshot s) {
    observe(s);
    tick();
  }

  /** Re-evaluates everything against the clock; called often, cheap when nothing is due. */
  public void tick() {
    Instant now = clock.instant();
    observe(queues.snapshot());
    switch (phase) {
      case IN_SERVICE -> pollTargetState(now);
      case AWAITING_ACTION -> awaitAction(now);
      case HOLDING -> hold(now);
      case DRAINED -> finish(now);
      case COMPLETED, LOST, EXPIRED -> {}
    }
    evaluatedAt = now;
    publish();
  }

  private void observe(QueueSnapshot s) {
    if (snapshot != null && s.takenAt().isBefore(snapshot.takenAt())) {
      return;
    }
    snapshot = s;
    if (!s.empty()) {
      emptySince = null;
    } else if (emptySince == null) {
      emptySince = s.takenAt();
    }
  }

  private boolean drainedFor(Instant now) {
    return snapshot.empty()
        && emptySince != null
        && !now.isBefore(emptySince.plus(settings.quietPeriod()));
  }

  private void pollTargetState(Instant now) {
    if (now.isBefore(nextImdsPoll)) {
      return;
    }
    nextImdsPoll = now.plus(settings.imdsPollInterval());
    try {
      target = imds.targetLifecycleState();
    } catch (ImdsException e) {
      error("read target lifecycle state for instance=" + ref.instanceId(), e);
      return;
    }
    if (target != TargetLifecycleState.TERMINATED) {
      return;
    }
    noticedAt = now;
    deadline = deadlineFrom(now);
    phase = Phase.AWAITING_ACTION;
    nextCall = now;
    log.warn(
        "termination noticed {} queuedBytes={} queuedFiles={} deadline={} policy={}",
        ref,
        snapshot.totalBytes(),
        snapshot.totalFiles(),
        deadline,
        settings.deadlinePolicy());
    awaitAction(now);
  }

  private Instant deadlineFrom(Instant notice) {
    Instant d = notice.plus(hook.globalTimeout()).minus(settings.deadlineMargin());
    if (settings.maxHold().isPresent()) {
      Instant m = notice.plus(settings.maxHold().get());
      d = m.isBefore(d) ? m : d;
    }
    return d;
  }

  private void awaitAction(Instant now) {
    if (!now.isBefore(deadline)) {
      onDeadline(now);
      return;
    }
    Optional<ActionOutcome> sent = tryHeartbeat(now, "heartbeat while awaiting the action");
    if (sent.isEmpty()) {
      return;
    }
    if (sent.get() == ActionOutcome.ACCEPTED) {
      actionActiveSince = now;
      phase = Phase.HOLDING;
      log.info(
          "lifecycle action active, holding {} queuedBytes={} heartbeatEvery={}",
          ref,
          snapshot.totalBytes(),
          heartbeatEvery);
      hold(now);
      return;
    }
    if (!now.isBefore(noticedAt.plus(settings.actionGrace()))) {
      end(
          now,
          Phase.LOST,
          null,
          "the lifecycle action did not become active within action-grace "
              + settings.actionGrace());
      return;
    }
    nextCall = now.plus(ACTION_RETRY);
    log.debug("lifecycle action not active yet {}", ref);
  }

  private void hold(Instant now) {
    if (!now.isBefore(deadline)) {
      onDeadline(now);
      return;
    }
    if (drainedFor(now)) {
      phase = Phase.DRAINED;
      drainedAt = now;
      log.info(
          "queues drained {} emptyFor={} quietPeriod={}",
          ref,
          Duration.between(emptySince, now),
          settings.quietPeriod());
      if (settings.beforeCompleteCommand().isPresent() && !commandRan) {
        command =
            commands.start(
                "before-complete",
                settings.beforeCompleteCommand().get(),
                commandEnv(),
                settings.commandTimeout());
      }
      finish(now);
      return;
    }
    heartbeatIfDue(now);
  }

  private void finish(Instant now) {
    heartbeatIfDue(now);
    if (phase != Phase.DRAINED) {
      return;
    }
    if (command != null) {
      if (!command.isDone() && now.isBefore(deadline)) {
        return;
      }
      if (!command.isDone()) {
        // Nothing is queued: do not let a stuck command run the hook into its timeout.
        log.warn("deadline reached while the before-complete command runs; completing {}", ref);
        command.cancel(false);
        command = null;
        commandRan = true;
        complete(now, "queues drained, deadline reached during the before-complete command");
        return;
      }
      CommandRunner.CommandResult r = command.join();
      command = null;
      commandRan = true;
      if (!r.ok()) {
        lastError =
            "before-complete command "
                + (r.timedOut() ? "timed out" : "failed with exit " + r.exitCode())
                + (r.error() == null ? "" : ": " + r.error());
      }
    }
    // The queues must have stayed empty since the drain was judged, command or not.
    if (!snapshot.empty() || emptySince == null || emptySince.isAfter(drainedAt)) {
      phase = Phase.HOLDING;
      log.info("queues hold data again, holding {} queuedBytes={}", ref, snapshot.totalBytes());
      return;
    }
    if (now.isBefore(nextCall)) {
      return;
    }
    complete(now, "queues drained");
  }

  private void complete(Instant now, String reason) {
    ActionOutcome outcome;
    try {
      outcome = api.complete(ref, LifecycleResult.CONTINUE);
    } catch (LifecycleApiException e) {
      error("complete(CONTINUE) for " + ref, e);
      nextCall = now.plus(CALL_RETRY);
      return;
    }
    if (outcome == ActionOutcome.ACCEPTED) {
      end(now, Phase.COMPLETED, LifecycleResult.CONTINUE, reason);
    } else {
      end(now, Phase.LOST, null, "the lifecycle action was gone when completing it");
    }
  }

  private void heartbeatIfDue(Instant now) {
    if (lastHeartbeat != null && now.isBefore(lastHeartbeat.plus(heartbeatEvery))) {
      return;
    }
    Optional<ActionOutcome> sent = tryHeartbeat(now, "heartbeat");
    if (sent.isEmpty()) {
      return;
    }
    if (sent.get() == ActionOutcome.ACCEPTED) {
      log.info(
          "heartbeat sent {} count={} queuedBytes={} next={}",
          ref,
          heartbeats,
          snapshot.totalBytes(),
          now.plus(heartbeatEvery));
    } else {
      end(
          now,
          Phase.LOST,
          null,
          "the lifecycle action ended while holding (heartbeat timeout, or completed elsewhere)");
    }
  }

  /**
   * Sends one heartbeat unless a failed call is still cooling down. Empty when nothing was
   * answered: the failure is recorded and the next try waits {@link #CALL_RETRY}.
   */
  private Optional<ActionOutcome> tryHeartbeat(Instant now, String operation) {
    if (now.isBefore(nextCall)) {
      return Optional.empty();
    }
    ActionOutcome outcome;
    try {
      outcome = api.heartbeat(ref);
    } catch (LifecycleApiException e) {
      error(operation + " for " + ref, e);
      nextCall = now.plus(CALL_RETRY);
      return Optional.empty();
    }
    if (outcome == ActionOutcome.ACCEPTED) {
      heartbeats++;
      lastHeartbeat = now;
      nextCall = now;
    }
    return Optional.of(outcome);
  }

  private void onDeadline(Instant now) {
    long bytes = snapshot.totalBytes();
    String known = snapshot.anyError() ? " (some roots unreadable: more may be at risk)" : "";
    switch (settings.deadlinePolicy()) {
      case COMPLETE -> {
        log.error(
            "deadline reached with data queued, policy=complete sends CONTINUE: {} bytes will be"
                + " lost{} {} deadline={}",
            bytes,
            known,
            ref,
            deadline);
        complete(now, "deadline reached, policy complete");
      }
      case EXPIRE ->
          end(
              now,
              Phase.EXPIRED,
              null,
              "deadline reached, policy expire: heartbeats stopped, the hook's DefaultResult="
                  + hook.defaultResult()
                  + " applies at its timeout with "
                  + bytes
                  + " bytes queued"
                  + known);
    }
  }

  private void end(Instant now, Phase terminal, LifecycleResult sent, String reason) {
    phase = terminal;
    result = sent;
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

  private void error(String operation, RuntimeException e) {
    lastError = e.getMessage();
    log.warn("{} failed, will retry: {}", operation, e.getMessage());
  }

  private Map<String, String> commandEnv() {
    return Map.of(
        "DRAINGUARD_PHASE", phase.name(),
        "DRAINGUARD_INSTANCE_ID", ref.instanceId(),
        "DRAINGUARD_ASG_NAME", ref.groupName(),
        "DRAINGUARD_HOOK_NAME", ref.hookName(),
        "DRAINGUARD_QUEUED_BYTES", Long.toString(snapshot.totalBytes()));
  }

  private void publish() {
    DrainStatus before = status;
    status = build();
    if (before.phase() != status.phase()
        || before.heartbeats() != status.heartbeats()
        || before.queues().totalBytes() != status.queues().totalBytes()
        || before.queues().totalFiles() != status.queues().totalFiles()
        || !before.lastError().equals(status.lastError())) {
      listener.accept(status);
    }
  }

  private DrainStatus build() {
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
        settings.deadlinePolicy(),
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
        bytesAtEnd);
  }
}
