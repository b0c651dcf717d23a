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
import java.util.Optional;
import java.util.concurrent.Executor;
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

  private Instant nextImdsPoll = Instant.MIN;

  /** When IMDS last read a target state other than Terminated; null before the first such read. */
  private Instant lastNotTerminated;

  private boolean deadlineLogged;
  private final ScaleInProtection protection;
  private final EventCommands events;
  private final DrainState state;
  private final Retention retention;
  private final SpotNotices notices;
  private final OperatorRequests operator;
  private volatile DrainStatus status;

  /**
   * @param spotReads where spot notices are read: its own thread in the agent, so that a slow
   *     metadata service never holds up a heartbeat; {@code Runnable::run} reads them on the loop's
   *     thread (unit tests)
   */
  public DrainController(
      DrainSettings settings,
      InstanceMetadata imds,
      LifecycleActions api,
      LifecycleHookRef ref,
      TerminationHook hook,
      QueueProbe queues,
      CommandRunner commands,
      Clock clock,
      Consumer<DrainStatus> listener,
      Executor spotReads) {
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
    this.state = new DrainState(ref, queues.snapshot(), clock.instant());
    this.retention = new Retention(state, settings, api, queues, commands);
    this.notices = new SpotNotices(state, imds, events, settings.imdsPollInterval(), spotReads);
    this.operator =
        new OperatorRequests(state, ref, settings.deadlinePolicy(), this::publish, this::tick);
    this.status =
        state.toStatus(hook, settings.deadlinePolicy(), heartbeatEvery, protection, events.fired());
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

  /**
   * How long until the queues will have been empty for the quiet period; empty when they are not
   * empty, or it has passed. The loop evaluates once more at that moment instead of waiting for its
   * next tick, so a drain is completed within the quiet period plus one call.
   */
  public Optional<Duration> untilQuietPeriodEnds() {
    if (!state.snapshot.empty() || state.emptySince == null || state.phase.terminal()) {
      return Optional.empty();
    }
    Duration left =
        Duration.between(clock.instant(), state.emptySince.plus(settings.quietPeriod()));
    return left.isNegative() ? Optional.empty() : Optional.of(left);
  }

  /** A new queue judgement from the probe. */
  public void onQueues(QueueSnapshot s) {
    state.observe(s);
    tick();
  }

  /** Re-evaluates everything against the clock; called often, cheap when nothing is due. */
  public void tick() {
    Instant now = clock.instant();
    state.observe(queues.snapshot());
    for (String failure : events.ended()) {
      state.lastError = failure;
      log.error("{} {}", failure, ref);
    }
    if (!state.phase.terminal()) {
      notices.poll(now, untilHeartbeatDue(now));
    }
    switch (state.phase) {
      case IN_SERVICE -> {
        protection.evaluate(now, state.snapshot, Optional.ofNullable(state.emptySince));
        pollTargetState(now);
      }
      case AWAITING_ACTION -> awaitAction(now);
      case HOLDING -> hold(now);
      case DRAINED -> finish(now);
      case RETAINED -> retention.tick(now);
      case COMPLETED, LOST, EXPIRED, INTERRUPTED -> {}
    }
    state.evaluatedAt = now;
    publish();
  }

  /**
   * An operator's hold: keep the action open even when the queues have drained, until {@link
   * #release} or the deadline policy acts. Allowed before termination too.
   */
  public ControlResult hold(String reason) {
    return operator.hold(reason, clock.instant());
  }

  /**
   * An operator's release: complete the action now. Refused while data is queued (or a probe cannot
   * tell) unless {@code force}; the bytes that a forced release loses are logged.
   */
  public ControlResult release(boolean force, String reason) {
    return operator.release(force, reason, clock.instant());
  }

  /** {@link #hold(String)} by {@code caller}, as the control socket's peer credentials name it. */
  public ControlResult hold(dev.drainguard.operator.Caller caller, String reason) {
    return operator.hold(caller, reason, clock.instant());
  }

  /** {@link #release(boolean, String)} by {@code caller}. */
  public ControlResult release(
      dev.drainguard.operator.Caller caller, boolean force, String reason) {
    return operator.release(caller, force, reason, clock.instant());
  }

  /** Keeps operator holds in {@code holds} and takes up a saved one; before the loop starts. */
  public void restoreHolds(HoldStore holds) {
    operator.restore(holds, clock.instant());
  }

  private void pollTargetState(Instant now) {
    if (now.isBefore(nextImdsPoll)) {
      return;
    }
    nextImdsPoll = now.plus(settings.imdsPollInterval());
    try {
      state.target = imds.targetLifecycleState();
    } catch (ImdsException e) {
      state.error("read target lifecycle state for instance=" + ref.instanceId(), e);
      return;
    }
    if (state.target != TargetLifecycleState.TERMINATED) {
      lastNotTerminated = now;
      return;
    }
    state.noticedAt = now;
    state.deadline = deadlineFrom(now);
    state.phase = Phase.AWAITING_ACTION;
    state.nextCall = now;
    events.fire("termination", state.commandEnv(Phase.AWAITING_ACTION));
    log.warn(
        "termination noticed {} queuedBytes={} queuedFiles={} deadline={} policy={}",
        ref,
        state.snapshot.totalBytes(),
        state.snapshot.totalFiles(),
        state.deadline,
        settings.deadlinePolicy());
    awaitAction(now);
  }

  /**
   * The global timeout runs from when termination started, which was after the last read that was
   * not Terminated: up to one poll (or an IMDS outage) before the notice. An agent whose first read
   * is Terminated (a restart) can only count from its notice. {@code max-hold} counts from the
   * notice.
   */
  private Instant deadlineFrom(Instant notice) {
    Instant started = lastNotTerminated != null ? lastNotTerminated : notice;
    Instant d = started.plus(hook.globalTimeout()).minus(settings.deadlineMargin());
    if (settings.maxHold().isPresent()) {
      Instant m = notice.plus(settings.maxHold().get());
      d = m.isBefore(d) ? m : d;
    }
    return d;
  }

  private void awaitAction(Instant now) {
    if (!now.isBefore(state.deadline)) {
      onDeadline(now);
      return;
    }
    if (state.releaseReason != null) {
      completeReleased(now);
      return;
    }
    Optional<ActionOutcome> sent = tryHeartbeat(now, "heartbeat while awaiting the action");
    if (sent.isEmpty()) {
      return;
    }
    if (sent.get() == ActionOutcome.ACCEPTED) {
      state.actionActiveSince = now;
      state.phase = Phase.HOLDING;
      log.info(
          "lifecycle action active, holding {} queuedBytes={} heartbeatEvery={}",
          ref,
          state.snapshot.totalBytes(),
          heartbeatEvery);
      hold(now);
      return;
    }
    // Not active: the instance may already be retained (an earlier agent's ABANDON, or the hook's
    // DefaultResult), which only DescribeAutoScalingInstances tells: asked until it answers once,
    // and again before giving up.
    if (!retention.looked() && retention.adoptIfRetained(now)) {
      return;
    }
    if (!now.isBefore(state.noticedAt.plus(settings.actionGrace()))) {
      actionGone(
          now,
          "the lifecycle action did not become active within action-grace "
              + settings.actionGrace());
      return;
    }
    state.nextHeartbeatCall = now.plus(ACTION_RETRY);
    log.debug("lifecycle action not active yet {}", ref);
  }

  private void hold(Instant now) {
    if (state.releaseReason != null) {
      heartbeatIfDue(now); // the release may take several tries: keep the action alive
      if (state.phase == Phase.HOLDING) {
        completeReleased(now);
      }
      return;
    }
    if (!now.isBefore(state.deadline)) {
      if (settings.deadlinePolicy() != DeadlinePolicy.EXPIRE) {
        heartbeatIfDue(now); // CONTINUE or ABANDON may take several tries
      }
      if (state.phase == Phase.HOLDING) {
        onDeadline(now);
      }
      return;
    }
    if (state.drainedFor(now, settings.quietPeriod()) && state.holdReason == null) {
      if (settings.beforeCompleteCommand().isPresent()
          && !state.commandRan
          && state.command == null) {
        state.command =
            commands.start(
                "before-complete",
                settings.beforeCompleteCommand().get(),
                state.commandEnv(Phase.DRAINED),
                settings.commandTimeout());
      }
      state.phase = Phase.DRAINED;
      state.drainedAt = now;
      log.info(
          "queues drained {} emptyFor={} quietPeriod={}",
          ref,
          Duration.between(state.emptySince, now),
          settings.quietPeriod());
      finish(now);
      return;
    }
    heartbeatIfDue(now);
  }

  private void finish(Instant now) {
    if (state.releaseReason != null) {
      heartbeatIfDue(now);
      if (state.phase == Phase.DRAINED) {
        completeReleased(now);
      }
      return;
    }
    heartbeatIfDue(now);
    if (state.phase != Phase.DRAINED) {
      return;
    }
    if (state.command != null) {
      afterCommand(now);
      return;
    }
    // Judge on the freshest state.snapshot: the heartbeat call above may have taken seconds.
    state.observe(queues.snapshot());
    if (!state.snapshot.empty()
        || state.emptySince == null
        || state.emptySince.isAfter(state.drainedAt)) {
      state.phase = Phase.HOLDING;
      log.info(
          "queues hold data again, holding {} queuedBytes={}", ref, state.snapshot.totalBytes());
      return;
    }
    if (now.isBefore(state.nextCall)) {
      return;
    }
    complete(now, "queues drained");
  }

  /**
   * The before-complete state.command is running or has ended. What it wrote must be seen before
   * the action is completed, so when it ends the quiet period starts again from that moment.
   */
  private void afterCommand(Instant now) {
    if (!state.command.isDone()) {
      if (now.isBefore(state.deadline)) {
        return;
      }
      log.warn("deadline reached while the before-complete command runs {}", ref);
      state.command.cancel(true);
      state.command = null;
      state.commandRan = true;
      state.observe(queues.snapshot());
      if (state.snapshot.empty()) {
        complete(now, "queues drained; deadline reached during the before-complete command");
      } else {
        onDeadline(now);
      }
      return;
    }
    CommandRunner.CommandResult r = state.command.join();
    state.command = null;
    state.commandRan = true;
    if (!r.ok()) {
      state.lastError =
          "before-complete command "
              + (r.timedOut() ? "timed out" : "failed with exit " + r.exitCode())
              + (r.error() == null ? "" : ": " + r.error());
    }
    state.phase = Phase.HOLDING;
    state.observe(queues.snapshot());
    if (state.emptySince != null) {
      state.emptySince = now;
    }
    log.info(
        "before-complete command ended {} ok={}; queues must stay empty for the quiet period again",
        ref,
        r.ok());
  }

  /** An operator released the action: complete it, or keep trying until it is active. */
  private void completeReleased(Instant now) {
    if (now.isBefore(state.nextCall) || state.stopping) {
      return;
    }
    if (!state.releaseStands(queues.snapshot())) {
      if (state.phase == Phase.DRAINED) {
        state.phase = Phase.HOLDING;
      }
      return;
    }
    if (state.phase == Phase.AWAITING_ACTION) {
      ActionOutcome outcome;
      try {
        outcome = api.complete(ref, LifecycleResult.CONTINUE);
      } catch (LifecycleApiException e) {
        state.error("complete(CONTINUE) after release for " + ref, e);
        state.nextCall = now.plus(CALL_RETRY);
        return;
      }
      if (outcome == ActionOutcome.ACCEPTED) {
        state.end(now, Phase.COMPLETED, LifecycleResult.CONTINUE, state.releaseReason);
      } else if (!now.isBefore(state.noticedAt.plus(settings.actionGrace()))) {
        state.end(now, Phase.LOST, null, "released, but the lifecycle action never became active");
      } else {
        state.nextCall = now.plus(ACTION_RETRY);
      }
      return;
    }
    complete(now, state.releaseReason);
  }

  /**
   * The agent is state.stopping: from now on nothing is completed, whatever a tick still in
   * progress finds. Stopping never completes a lifecycle action.
   */
  public void stop() {
    state.stopping = true;
  }

  private void complete(Instant now, String reason) {
    if (state.stopping) {
      log.info("not completing while the agent stops {}", ref);
      return;
    }
    ActionOutcome outcome;
    try {
      outcome = api.complete(ref, LifecycleResult.CONTINUE);
    } catch (LifecycleApiException e) {
      state.error("complete(CONTINUE) for " + ref, e);
      state.nextCall = now.plus(CALL_RETRY);
      return;
    }
    if (outcome == ActionOutcome.ACCEPTED) {
      state.end(now, Phase.COMPLETED, LifecycleResult.CONTINUE, reason);
    } else {
      actionGone(
          now,
          "the lifecycle action was gone when completing it (timed out, completed elsewhere,"
              + " or completed by an earlier attempt whose answer was lost)");
    }
  }

  /** The action is gone: LOST, unless the instance turns out to be retained (then drain on). */
  private void actionGone(Instant now, String reason) {
    if (!retention.adoptIfRetained(now)) {
      state.end(now, Phase.LOST, null, reason);
    }
  }

  /**
   * How long the loop may wait for a spot notice read: until the next heartbeat may be sent while
   * one is owed (zero when it is due now), else as long as the read allows.
   */
  private Duration untilHeartbeatDue(Instant now) {
    if (state.phase != Phase.AWAITING_ACTION
        && state.phase != Phase.HOLDING
        && state.phase != Phase.DRAINED) {
      return SpotNotices.READ_WAIT;
    }
    Instant due = state.lastHeartbeat == null ? now : state.lastHeartbeat.plus(heartbeatEvery);
    if (due.isBefore(state.nextHeartbeatCall)) {
      due = state.nextHeartbeatCall;
    }
    return now.isBefore(due) ? Duration.between(now, due) : Duration.ZERO;
  }

  private void heartbeatIfDue(Instant now) {
    if (state.lastHeartbeat != null && now.isBefore(state.lastHeartbeat.plus(heartbeatEvery))) {
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
          state.heartbeats,
          state.snapshot.totalBytes(),
          now.plus(heartbeatEvery));
    } else {
      actionGone(
          now,
          "the lifecycle action ended while holding (heartbeat timeout, or completed elsewhere)");
    }
  }

  /**
   * Sends one heartbeat unless a failed call is still cooling down. Empty when nothing was
   * answered: the failure is recorded and the next try waits {@link #CALL_RETRY}.
   */
  private Optional<ActionOutcome> tryHeartbeat(Instant now, String operation) {
    if (now.isBefore(state.nextHeartbeatCall)) {
      return Optional.empty();
    }
    ActionOutcome outcome;
    try {
      outcome = api.heartbeat(ref);
    } catch (LifecycleApiException e) {
      state.error(operation + " for " + ref, e);
      state.nextHeartbeatCall = now.plus(CALL_RETRY);
      return Optional.empty();
    }
    if (outcome == ActionOutcome.ACCEPTED) {
      state.heartbeats++;
      state.lastHeartbeat = now;
      state.nextHeartbeatCall = now;
    }
    return Optional.of(outcome);
  }

  private void onDeadline(Instant now) {
    long bytes = state.snapshot.totalBytes();
    String known =
        state.snapshot.anyError() ? " (some queue probes cannot tell: more may be at risk)" : "";
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
              state.deadline);
        }
        if (!now.isBefore(state.nextCall)) {
          complete(now, "deadline reached, policy complete");
        }
      }
      case RETAIN -> retention.abandon(now);
      case EXPIRE ->
          state.end(
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

  private void publish() {
    DrainStatus before = status;
    status =
        state.toStatus(hook, settings.deadlinePolicy(), heartbeatEvery, protection, events.fired());
    if (before.phase() != status.phase()
        || before.heartbeats() != status.heartbeats()
        || before.queues().totalBytes() != status.queues().totalBytes()
        || before.queues().totalFiles() != status.queues().totalFiles()
        || !before.queues().sameReadings(status.queues())
        || !before.lastError().equals(status.lastError())
        || !before.holdReason().equals(status.holdReason())
        || before.releaseRequested() != status.releaseRequested()
        || before.scaleInProtected() != status.scaleInProtected()
        || !before.rebalanceRecommendedAt().equals(status.rebalanceRecommendedAt())
        || !before.eventCommands().equals(status.eventCommands())) {
      listener.accept(status);
    }
  }
}
