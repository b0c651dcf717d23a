package dev.drainguard.drain;

import dev.drainguard.imds.ImdsException;
import dev.drainguard.imds.InstanceMetadata;
import dev.drainguard.imds.SpotNotice;
import dev.drainguard.imds.TargetLifecycleState;
import dev.drainguard.lifecycle.ActionOutcome;
import dev.drainguard.lifecycle.GroupMembership;
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

  /**
   * After ABANDON under policy retain, how long the instance may take to show Terminating:Retained
   * before the agent concludes the group does not retain instances.
   */
  static final Duration RETENTION_CONFIRM_LIMIT = Duration.ofMinutes(2);

  static final String RETAINED_STATE = "Terminating:Retained";

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
  private String holdReason;
  private Instant holdSince;
  private String releaseReason;
  private boolean deadlineLogged;
  private volatile boolean stopping;
  private Instant retainedSince;
  private boolean retentionConfirmed;
  private Instant nextNoticePoll = Instant.MIN;
  private SpotNotice spotInterruption;
  private Instant rebalanceAt;
  private final ScaleInProtection protection;
  private final EventCommands events;
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
    this.protection =
        new ScaleInProtection(settings.protection(), settings.quietPeriod(), api, ref);
    this.events =
        new EventCommands(settings.onTerminationCommand(), settings.commandTimeout(), commands);
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
    for (String failure : events.ended()) {
      lastError = failure;
      log.error("{} {}", failure, ref);
    }
    if (!phase.terminal()) {
      pollNotices(now);
    }
    switch (phase) {
      case IN_SERVICE -> {
        protection.evaluate(now, snapshot, Optional.ofNullable(emptySince));
        pollTargetState(now);
      }
      case AWAITING_ACTION -> awaitAction(now);
      case HOLDING -> hold(now);
      case DRAINED -> finish(now);
      case RETAINED -> retained(now);
      case COMPLETED, LOST, EXPIRED, INTERRUPTED -> {}
    }
    evaluatedAt = now;
    publish();
  }

  /**
   * An operator's hold: keep the action open even when the queues have drained, until {@link
   * #release} or the deadline policy acts. Allowed before termination too.
   */
  public ControlResult hold(String reason) {
    Instant now = clock.instant();
    if (phase.terminal()) {
      return ControlResult.refused("the drain has ended (phase " + phase + "): nothing to hold");
    }
    holdReason = reason;
    holdSince = now;
    if (phase == Phase.DRAINED) {
      phase = Phase.HOLDING;
    }
    log.warn("operator hold {} phase={} reason=\"{}\" deadline={}", ref, phase, reason, deadline);
    publish();
    return ControlResult.accepted(
        "holding: the lifecycle action stays open until 'drainguard release' or the deadline"
            + (deadline == null ? "" : " (" + deadline + ", policy " + policyName() + ")"));
  }

  /**
   * An operator's release: complete the action now. Refused while data is queued (or a root cannot
   * be read) unless {@code force}; the bytes that a forced release loses are logged.
   */
  public ControlResult release(boolean force, String reason) {
    Instant now = clock.instant();
    if (phase.terminal()) {
      return ControlResult.refused("the drain has ended (phase " + phase + "): nothing to release");
    }
    if (phase == Phase.IN_SERVICE) {
      boolean held = holdReason != null;
      clearHold();
      publish();
      return held
          ? ControlResult.accepted("hold cleared; the instance is not terminating")
          : ControlResult.refused("the instance is not terminating: nothing to release");
    }
    long bytes = snapshot.totalBytes();
    if (!snapshot.empty() && !force) {
      return ControlResult.refused(
          String.format(
              "refused: %d bytes in %d files are still queued%s; 'drainguard release --force'"
                  + " completes anyway and loses them",
              bytes,
              snapshot.totalFiles(),
              snapshot.anyError() ? " and some queue roots cannot be read" : ""));
    }
    clearHold();
    releaseReason =
        "released by operator"
            + (force && !snapshot.empty() ? " with --force, " + bytes + " bytes lost" : "")
            + (reason == null || reason.isBlank() ? "" : ": " + reason);
    if (force && !snapshot.empty()) {
      log.error("operator release --force {} bytesLost={} reason=\"{}\"", ref, bytes, reason);
    } else {
      log.warn("operator release {} reason=\"{}\"", ref, reason);
    }
    nextCall = now;
    tick();
    if (phase == Phase.COMPLETED) {
      return ControlResult.accepted(
          "completed: CONTINUE sent" + (bytes > 0 ? ", " + bytes + " queued bytes lost" : ""));
    }
    return ControlResult.accepted(
        "released: CONTINUE will be sent as soon as the lifecycle action is active"
            + (bytes > 0 ? " (" + bytes + " queued bytes will be lost)" : ""));
  }

  private void clearHold() {
    holdReason = null;
    holdSince = null;
  }

  private String policyName() {
    return settings.deadlinePolicy().name().toLowerCase(java.util.Locale.ROOT);
  }

  /**
   * Takes in a snapshot. Snapshots are taken in the order they arrive, not by their time: one from
   * the listener may arrive after a fresher one read by a tick, and its verdict still counts (a
   * brief non-empty moment restarts the quiet period). Every decision re-reads the probe first, so
   * it is always made on the freshest snapshot.
   */
  private void observe(QueueSnapshot s) {
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
    events.fire("termination", commandEnv(Phase.AWAITING_ACTION));
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
    if (releaseReason != null) {
      completeReleased(now);
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
    if (releaseReason != null) {
      completeReleased(now);
      return;
    }
    if (!now.isBefore(deadline)) {
      onDeadline(now);
      return;
    }
    if (drainedFor(now) && holdReason == null) {
      if (settings.beforeCompleteCommand().isPresent() && !commandRan && command == null) {
        command =
            commands.start(
                "before-complete",
                settings.beforeCompleteCommand().get(),
                commandEnv(Phase.DRAINED),
                settings.commandTimeout());
      }
      phase = Phase.DRAINED;
      drainedAt = now;
      log.info(
          "queues drained {} emptyFor={} quietPeriod={}",
          ref,
          Duration.between(emptySince, now),
          settings.quietPeriod());
      finish(now);
      return;
    }
    heartbeatIfDue(now);
  }

  private void finish(Instant now) {
    if (releaseReason != null) {
      completeReleased(now);
      return;
    }
    heartbeatIfDue(now);
    if (phase != Phase.DRAINED) {
      return;
    }
    if (command != null) {
      afterCommand(now);
      return;
    }
    // Judge on the freshest snapshot: the heartbeat call above may have taken seconds.
    observe(queues.snapshot());
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

  /**
   * The before-complete command is running or has ended. What it wrote must be seen before the
   * action is completed, so when it ends the quiet period starts again from that moment.
   */
  private void afterCommand(Instant now) {
    if (!command.isDone()) {
      if (now.isBefore(deadline)) {
        return;
      }
      log.warn("deadline reached while the before-complete command runs {}", ref);
      command.cancel(true);
      command = null;
      commandRan = true;
      observe(queues.snapshot());
      if (snapshot.empty()) {
        complete(now, "queues drained; deadline reached during the before-complete command");
      } else {
        onDeadline(now);
      }
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
    phase = Phase.HOLDING;
    observe(queues.snapshot());
    if (emptySince != null) {
      emptySince = now;
    }
    log.info(
        "before-complete command ended {} ok={}; queues must stay empty for the quiet period again",
        ref,
        r.ok());
  }

  /** An operator released the action: complete it, or keep trying until it is active. */
  private void completeReleased(Instant now) {
    if (now.isBefore(nextCall) || stopping) {
      return;
    }
    if (phase == Phase.AWAITING_ACTION) {
      ActionOutcome outcome;
      try {
        outcome = api.complete(ref, LifecycleResult.CONTINUE);
      } catch (LifecycleApiException e) {
        error("complete(CONTINUE) after release for " + ref, e);
        nextCall = now.plus(CALL_RETRY);
        return;
      }
      if (outcome == ActionOutcome.ACCEPTED) {
        end(now, Phase.COMPLETED, LifecycleResult.CONTINUE, releaseReason);
      } else if (!now.isBefore(noticedAt.plus(settings.actionGrace()))) {
        end(now, Phase.LOST, null, "released, but the lifecycle action never became active");
      } else {
        nextCall = now.plus(ACTION_RETRY);
      }
      return;
    }
    complete(now, releaseReason);
  }

  /**
   * The agent is stopping: from now on nothing is completed, whatever a tick still in progress
   * finds. Stopping never completes a lifecycle action.
   */
  public void stop() {
    stopping = true;
  }

  private void complete(Instant now, String reason) {
    if (stopping) {
      log.info("not completing while the agent stops {}", ref);
      return;
    }
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
      end(
          now,
          Phase.LOST,
          null,
          "the lifecycle action was gone when completing it (timed out, completed elsewhere,"
              + " or completed by an earlier attempt whose answer was lost)");
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
        if (!deadlineLogged) {
          deadlineLogged = true;
          log.error(
              "deadline reached with data queued, policy=complete sends CONTINUE: {} bytes will"
                  + " be lost{} {} deadline={}",
              bytes,
              known,
              ref,
              deadline);
        }
        if (!now.isBefore(nextCall)) {
          complete(now, "deadline reached, policy complete");
        }
      }
      case RETAIN -> abandonForRetention(now, bytes);
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

  /** Policy retain: ABANDON, expecting the group to keep the instance in Terminating:Retained. */
  private void abandonForRetention(Instant now, long bytes) {
    if (now.isBefore(nextCall) || stopping) {
      return;
    }
    ActionOutcome outcome;
    try {
      outcome = api.complete(ref, LifecycleResult.ABANDON);
    } catch (LifecycleApiException e) {
      error("complete(ABANDON) for retention of " + ref, e);
      nextCall = now.plus(CALL_RETRY);
      return;
    }
    if (outcome != ActionOutcome.ACCEPTED) {
      end(now, Phase.LOST, null, "the lifecycle action was gone when abandoning it for retention");
      return;
    }
    phase = Phase.RETAINED;
    retainedSince = now;
    result = LifecycleResult.ABANDON;
    nextCall = now;
    log.warn(
        "deadline reached with data queued, policy=retain sent ABANDON {} queuedBytes={}:"
            + " expecting {}",
        ref,
        bytes,
        RETAINED_STATE);
    retained(now);
  }

  /** Retained: confirm the group kept the instance, drain, then terminate it. */
  private void retained(Instant now) {
    if (!retentionConfirmed) {
      confirmRetention(now);
      return;
    }
    if (releaseReason != null) {
      terminateSelf(now, releaseReason);
      return;
    }
    if (!drainedFor(now) || holdReason != null) {
      return;
    }
    if (settings.beforeCompleteCommand().isPresent() && !commandRan) {
      if (command == null) {
        command =
            commands.start(
                "before-complete",
                settings.beforeCompleteCommand().get(),
                commandEnv(Phase.RETAINED),
                settings.commandTimeout());
        return;
      }
      if (!command.isDone()) {
        return;
      }
      command = null;
      commandRan = true;
      emptySince = now; // what the command wrote must be seen: the quiet period runs again
      return;
    }
    observe(queues.snapshot());
    if (snapshot.empty()) {
      terminateSelf(now, "retained instance drained");
    }
  }

  private void confirmRetention(Instant now) {
    if (now.isBefore(nextCall)) {
      return;
    }
    String state;
    try {
      state =
          api.describeInstance(ref.instanceId())
              .map(GroupMembership::lifecycleState)
              .orElse("gone from the group");
    } catch (LifecycleApiException e) {
      error("describe instance after ABANDON for " + ref, e);
      nextCall = now.plus(CALL_RETRY);
      return;
    }
    if (RETAINED_STATE.equals(state)) {
      retentionConfirmed = true;
      log.warn(
          "instance retained {} state={} queuedBytes={}: it stays until its queues drain",
          ref,
          state,
          snapshot.totalBytes());
      return;
    }
    boolean stillMoving = state.startsWith("Terminating") && !state.endsWith("Proceed");
    if (stillMoving && now.isBefore(retainedSince.plus(RETENTION_CONFIRM_LIMIT))) {
      nextCall = now.plus(ACTION_RETRY);
      return;
    }
    end(
        now,
        Phase.LOST,
        LifecycleResult.ABANDON,
        "policy retain sent ABANDON but the group does not retain instances (lifecycle state "
            + state
            + "): set the group's instance lifecycle policy TerminateHookAbandon=retain");
  }

  private void terminateSelf(Instant now, String reason) {
    if (now.isBefore(nextCall) || stopping) {
      return;
    }
    try {
      api.terminateInstance(ref.instanceId());
    } catch (LifecycleApiException e) {
      error("terminate retained instance " + ref, e);
      nextCall = now.plus(CALL_RETRY);
      return;
    }
    end(
        now,
        Phase.COMPLETED,
        LifecycleResult.ABANDON,
        reason + "; the agent terminated its retained instance");
  }

  /** Spot notices cannot be delayed: run the command, say what is at risk, stop holding. */
  private void pollNotices(Instant now) {
    if (now.isBefore(nextNoticePoll)) {
      return;
    }
    nextNoticePoll = now.plus(settings.imdsPollInterval());
    try {
      if (rebalanceAt == null) {
        imds.rebalanceRecommendation().ifPresent(n -> onRebalance(n));
      }
      imds.spotInterruption().ifPresent(n -> onInterruption(now, n));
    } catch (ImdsException e) {
      error("read spot notices for instance=" + ref.instanceId(), e);
    }
  }

  private void onRebalance(SpotNotice n) {
    rebalanceAt = n.time();
    log.warn(
        "spot rebalance recommendation {} noticeTime={} queuedBytes={}: interruption risk is"
            + " elevated",
        ref,
        n.time(),
        snapshot.totalBytes());
    events.fire("rebalance-recommendation", commandEnv(phase));
  }

  private void onInterruption(Instant now, SpotNotice n) {
    spotInterruption = n;
    events.fire("spot-interruption", commandEnv(phase));
    long left = Math.max(0, Duration.between(now, n.time()).toSeconds());
    end(
        now,
        Phase.INTERRUPTED,
        null,
        "spot interruption notice: EC2 will "
            + n.action()
            + " this instance at "
            + n.time()
            + " (in "
            + left
            + " s); it cannot be delayed, queued data that is not sent by then is lost");
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

  private Map<String, String> commandEnv(Phase at) {
    return Map.of(
        "DRAINGUARD_PHASE", at.name(),
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
        || !before.lastError().equals(status.lastError())
        || !before.holdReason().equals(status.holdReason())
        || before.releaseRequested() != status.releaseRequested()
        || before.scaleInProtected() != status.scaleInProtected()
        || !before.rebalanceRecommendedAt().equals(status.rebalanceRecommendedAt())
        || !before.eventCommands().equals(status.eventCommands())) {
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
        bytesAtEnd,
        Optional.ofNullable(holdReason),
        Optional.ofNullable(holdSince),
        releaseReason != null,
        Optional.ofNullable(retainedSince),
        protection.active(),
        protection.changedAt(),
        Optional.ofNullable(spotInterruption),
        Optional.ofNullable(rebalanceAt),
        events.fired());
  }
}
