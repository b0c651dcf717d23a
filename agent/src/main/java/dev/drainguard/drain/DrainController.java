package dev.drainguard.drain;

import dev.drainguard.drain.Event.CallEnded;
import dev.drainguard.drain.Event.CommandEnded;
import dev.drainguard.drain.Event.FilesRead;
import dev.drainguard.drain.Event.ImdsPolled;
import dev.drainguard.drain.Event.ProbeRead;
import dev.drainguard.drain.Intent.CallKind;
import dev.drainguard.imds.TargetLifecycleState;
import dev.drainguard.lifecycle.LifecycleHookRef;
import dev.drainguard.lifecycle.TerminationHook;
import dev.drainguard.operator.Caller;
import dev.drainguard.queue.DrainedWhen;
import dev.drainguard.queue.QueueSnapshot;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The only place that decides: a state machine that takes timestamped {@link Event}s and answers
 * with {@link Intent}s. It performs no I/O, never waits and reads no clock: the instant of every
 * step is given. {@link DrainLoop} feeds it on one thread; the scenario runner feeds it directly.
 *
 * <p>It keeps no state across restarts: a restarted agent reads Terminated from IMDS, heartbeats,
 * and so resumes holding. Nothing here runs on shutdown: stopping never completes the action.
 */
public final class DrainController {

  private static final Logger log = LoggerFactory.getLogger(DrainController.class);

  private final DrainSettings settings;
  private final Consumer<DrainStatus> listener;
  private final DrainState state;
  private final ScaleInProtection protection;
  private final EventCommands events;
  private final Confirmation confirmation;
  private final Retention retention;
  private final Termination termination;
  private final SpotNotices notices;
  private final OperatorRequests operator;
  private final Forecasting forecasting;
  private final HookWatch hooks;

  /** When IMDS last read a target state other than Terminated; null before the first such read. */
  private Instant lastNotTerminated;

  private volatile DrainStatus status;

  /**
   * @param rule how the probes' readings combine
   * @param probeAges every scheduled probe's name, with how old its reading may get (its interval +
   *     timeout) before it counts as unknown
   * @param firstFiles the filesystem watcher's first view
   * @param start the instant the agent started: the quiet period cannot end before {@code start +
   *     quiet-period}
   * @param confirmAgain how long an unanswered confirmation (rescan, fresh readings) is waited for
   */
  public DrainController(
      DrainSettings settings,
      LifecycleHookRef ref,
      TerminationHook hook,
      DrainedWhen rule,
      Map<String, Duration> probeAges,
      QueueSnapshot firstFiles,
      Instant start,
      Duration confirmAgain,
      Consumer<DrainStatus> listener) {
    this(
        settings,
        ref,
        hook,
        rule,
        probeAges,
        firstFiles,
        start,
        confirmAgain,
        listener,
        new SplittableRandom());
  }

  /**
   * As above, with the random source of the retry jitter given: the scenario runner seeds it, so a
   * run is a function of its seed.
   */
  public DrainController(
      DrainSettings settings,
      LifecycleHookRef ref,
      TerminationHook hook,
      DrainedWhen rule,
      Map<String, Duration> probeAges,
      QueueSnapshot firstFiles,
      Instant start,
      Duration confirmAgain,
      Consumer<DrainStatus> listener,
      RandomGenerator random) {
    this.settings = settings;
    this.listener = listener;
    Evidence evidence = new Evidence(rule, settings.quietPeriod(), probeAges, firstFiles, start);
    this.state = new DrainState(ref, hook, evidence, start);
    state.heartbeatEvery = heartbeatInterval(settings.heartbeatInterval(), hook.heartbeatTimeout());
    this.hooks =
        new HookWatch(
            state,
            settings.heartbeatInterval(),
            () -> {
              state.deadlineWanted = false;
              state.deadline = deadlineFrom(state.noticedAt);
            });
    state.hookMissing = hook.name().isEmpty() || !hook.name().equals(ref.hookName());
    if (state.hookMissing) {
      state.lastError = hooks.missingHook();
    }
    this.protection = new ScaleInProtection(settings.protection(), settings.quietPeriod(), ref);
    this.events = new EventCommands(settings.onTerminationCommand(), settings.commandTimeout());
    this.confirmation = new Confirmation(state, confirmAgain);
    this.retention = new Retention(state, settings, confirmation);
    this.termination = new Termination(state, settings, retention, confirmation, random);
    retention.explainedBy(termination);
    this.notices = new SpotNotices(state, events);
    this.operator = new OperatorRequests(state, ref, settings.deadlinePolicy());
    this.forecasting = new Forecasting(settings.forecast(), settings.deadlinePolicy(), start);
    this.status = state.toStatus(settings.deadlinePolicy(), protection, events.fired());
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
   * Takes in one event that arrived at {@code now} and returns what is to be done. Never blocks.
   */
  public List<Intent> step(Event event, Instant now) {
    state.out.clear();
    Evidence evidence = state.evidence;
    evidence.observe(now); // a verdict that was not empty up to now counts before the event
    if (event instanceof FilesRead f) {
      evidence.onFiles(f.files(), f.seq(), f.rescan(), now);
    } else if (event instanceof ProbeRead p) {
      evidence.onProbe(p.reading(), p.seq(), now);
    } else if (event instanceof ImdsPolled i) {
      onImds(i, now);
    } else if (event instanceof CallEnded c) {
      onCall(c, now);
    } else if (event instanceof CommandEnded c) {
      onCommand(c, now);
    }
    evaluate(now);
    return List.copyOf(state.out);
  }

  private void evaluate(Instant now) {
    state.snapshot = state.evidence.verdict(now);
    if (!state.phase.terminal()) {
      forecasting.evaluate(state, events, now);
      switch (state.phase) {
        case IN_SERVICE -> {
          protection.evaluate(
              now, state.snapshot, state.evidence.lastNotEmpty(), state.calls, state.out);
          hooks.lookForMissingHook(now);
        }
        case AWAITING_ACTION, HOLDING, DRAINED -> {
          if (state.deadlineWanted) {
            state.deadlineWanted = false;
            state.deadline = deadlineFrom(state.noticedAt);
          }
          if (state.hookRereadWanted
              && state.calls.start(CallKind.DESCRIBE_HOOKS, now, state.out)) {
            state.hookRereadWanted = false;
          }
          termination.askPending(now);
          termination.evaluate(now);
        }
        case RETAINED -> {
          retention.evaluate(now);
        }
        default -> {}
      }
    }
    state.snapshot = state.evidence.verdict(now);
    state.evaluatedAt = now;
    publish();
  }

  /**
   * The next instant something falls due (a heartbeat, the quiet period's end, the deadline, a
   * retry); empty when only an event can change anything. Always after {@code now}.
   */
  public Optional<Instant> nextWake(Instant now) {
    List<Instant> due = new ArrayList<>();
    if (state.phase == Phase.IN_SERVICE) {
      protection.nextDue(now, state.evidence.lastNotEmpty()).ifPresent(due::add);
      hooks.nextLook().ifPresent(due::add);
    } else if (!state.phase.terminal()) {
      termination.heartbeatDue().ifPresent(due::add);
      if (state.evidence.verdict(now).empty()) {
        due.add(state.evidence.quietEnd()); // while data is seen, only an event can end it
      }
      confirmation.askAgainAt().ifPresent(due::add);
      if (state.deadline != null) {
        due.add(state.deadline);
      }
      for (CallKind k : CallKind.values()) {
        state.calls.cooledAt(k, now).ifPresent(due::add);
      }
    }
    return due.stream().filter(now::isBefore).min(Instant::compareTo);
  }

  private void onImds(ImdsPolled i, Instant now) {
    i.error().ifPresent(e -> state.error("read instance metadata for " + state.ref, e));
    i.rebalance().ifPresent(notices::onRebalance);
    if (i.interruption().isPresent()) {
      notices.onInterruption(now, i.interruption().get());
      return;
    }
    if (i.target().isEmpty()) {
      return;
    }
    state.target = i.target().get();
    if (state.target != TargetLifecycleState.TERMINATED) {
      lastNotTerminated = now;
      return;
    }
    if (state.phase != Phase.IN_SERVICE) {
      return;
    }
    state.snapshot = state.evidence.verdict(now);
    state.noticedAt = now;
    state.globalFrom = lastNotTerminated != null ? lastNotTerminated : now;
    state.deadline = deadlineFrom(now);
    state.phase = Phase.AWAITING_ACTION;
    events.fire("termination", state.commandEnv(Phase.AWAITING_ACTION), state.out);
    log.warn(
        "termination noticed {} queuedBytes={} probes={} deadline={} policy={}",
        state.ref,
        state.snapshot.totalBytes(),
        DrainState.describe(state.snapshot),
        state.deadline,
        settings.deadlinePolicy());
    // The hook may have changed since start (a stack update): its timeouts are read again.
    state.hookRereadWanted = true;
  }

  /**
   * The global timeout runs from when termination started, which was after the last read that was
   * not Terminated: up to one poll (or an IMDS outage) before the notice. An agent whose first read
   * is Terminated (a restart) can only count from its notice. {@code max-hold} counts from the
   * notice.
   */
  private Instant deadlineFrom(Instant notice) {
    Instant d = state.globalFrom.plus(state.hook.globalTimeout()).minus(settings.deadlineMargin());
    if (settings.maxHold().isPresent()) {
      Instant m = notice.plus(settings.maxHold().get());
      d = m.isBefore(d) ? m : d;
    }
    return d;
  }

  private void onCall(CallEnded c, Instant now) {
    Optional<Instant> sent = state.calls.ended(c.kind());
    if (sent.isEmpty() || state.phase.terminal()) {
      return; // not a call in flight; or one that ended after the drain did: nothing to decide
    }
    switch (c.kind()) {
      case PROTECT, UNPROTECT -> protection.onCall(c.kind(), c.result(), now, state.calls);
      case DESCRIBE_HOOKS -> hooks.onHooks(c.result(), now);
      case ABANDON, TERMINATE -> retention.onCall(c.kind(), c.result(), now);
      case DESCRIBE_INSTANCE -> {
        if (state.phase == Phase.RETAINED) {
          retention.onCall(c.kind(), c.result(), now);
        } else {
          termination.onCall(c.kind(), sent.get(), c.result(), now);
        }
      }
      case HEARTBEAT, CONTINUE -> {
        if (state.phase != Phase.RETAINED) { // retained: the action is over, and so are they
          termination.onCall(c.kind(), sent.get(), c.result(), now);
        }
      }
    }
  }

  /** A hold refused: an irreversible call is in flight and cannot be called back; else null. */
  private ControlResult tooLateToHold() {
    for (CallKind k : List.of(CallKind.CONTINUE, CallKind.ABANDON, CallKind.TERMINATE)) {
      if (state.calls.inFlight(k)) {
        return new ControlResult(
            false,
            "too late to hold: "
                + k
                + " has been sent and cannot be called back; 'drainguard status' shows how it"
                + " ends");
      }
    }
    return null;
  }

  private void onCommand(CommandEnded c, Instant now) {
    if (c.name().equals("before-complete")) {
      termination.onCommandEnded(now, c.result());
    } else {
      events.ended(c.name(), c.result()).ifPresent(f -> state.lastError = f);
    }
  }

  /**
   * An operator's hold: keep the action open even when the queues have drained, until {@link
   * #release} or the deadline policy acts. Allowed before termination too.
   */
  public ControlResult hold(String reason, Instant now) {
    ControlResult refused = tooLateToHold();
    if (refused != null) {
      return refused;
    }
    ControlResult r = operator.hold(reason, now);
    publish();
    return r;
  }

  /**
   * An operator's release: complete the action once fresh readings confirm the queues are empty.
   * Refused while data is queued (or a probe cannot tell) unless {@code force}; the bytes that a
   * forced release loses are logged. The intents it leads to are returned by the next step.
   */
  public ControlResult release(boolean force, String reason, Instant now) {
    state.snapshot = state.evidence.verdict(now);
    ControlResult r = operator.release(force, reason, now);
    publish();
    return r;
  }

  /** {@link #hold(String, Instant)} by {@code caller}, as the socket's peer credentials name it. */
  public ControlResult hold(Caller caller, String reason, Instant now) {
    ControlResult refused = tooLateToHold();
    if (refused != null) {
      return refused;
    }
    ControlResult r = operator.hold(caller, reason, now);
    publish();
    return r;
  }

  /** {@link #release(boolean, String, Instant)} by {@code caller}. */
  public ControlResult release(Caller caller, boolean force, String reason, Instant now) {
    state.snapshot = state.evidence.verdict(now);
    ControlResult r = operator.release(caller, force, reason, now);
    publish();
    return r;
  }

  /** Keeps operator holds in {@code holds} and takes up a saved one; before the loop starts. */
  public void restoreHolds(HoldStore holds, Instant now) {
    operator.restore(holds, now);
    publish();
  }

  /**
   * The agent is stopping: from now on nothing is completed, whatever is still in flight. Stopping
   * never completes a lifecycle action.
   */
  public void stop() {
    state.stopping = true;
  }

  private void publish() {
    DrainStatus before = status;
    status = state.toStatus(settings.deadlinePolicy(), protection, events.fired());
    if (before.phase() != status.phase()
        || before.heartbeats() != status.heartbeats()
        || before.queues().totalBytes() != status.queues().totalBytes()
        || before.queues().totalFiles() != status.queues().totalFiles()
        || before.queues().empty() != status.queues().empty()
        || !before.queues().sameReadings(status.queues())
        || !before.lastError().equals(status.lastError())
        || !before.holdReason().equals(status.holdReason())
        || before.releaseRequested() != status.releaseRequested()
        || before.scaleInProtected() != status.scaleInProtected()
        || !before.rebalanceRecommendedAt().equals(status.rebalanceRecommendedAt())
        || !before.eventCommands().equals(status.eventCommands())
        || !before.atRiskWarnedAt().equals(status.atRiskWarnedAt())
        || before.forecast().stalled() != status.forecast().stalled()) {
      listener.accept(status);
    }
  }
}
