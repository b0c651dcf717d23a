package dev.drainguard.scenario;

import dev.drainguard.config.AgentConfig;
import dev.drainguard.config.ConfigLoader;
import dev.drainguard.config.Setting;
import dev.drainguard.drain.DrainStatus;
import dev.drainguard.drain.Phase;
import dev.drainguard.queue.RootStatus;
import dev.drainguard.scenario.Event.ApiErrors;
import dev.drainguard.scenario.Event.DestinationDown;
import dev.drainguard.scenario.Event.Drain;
import dev.drainguard.scenario.Event.DrainAll;
import dev.drainguard.scenario.Event.ImdsDown;
import dev.drainguard.scenario.Event.ImdsErrors;
import dev.drainguard.scenario.Event.ImdsTokensRevoked;
import dev.drainguard.scenario.Event.Restart;
import dev.drainguard.scenario.Event.ScaleIn;
import dev.drainguard.scenario.Event.Write;
import dev.drainguard.scenario.Trace.Incarnation;
import dev.drainguard.scenario.Trace.QueueChange;
import dev.drainguard.sim.Simulator;
import dev.drainguard.testing.MutableClock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Drives the real agent through one scenario against its own simulator, on a clock shared by both
 * that moves only when the runner moves it. Each clock step is evaluated by the agent before the
 * next ({@link #settle()}), and each queue change is seen by the agent before the clock moves on
 * ({@link #syncQueues()}), so a run is a deterministic function of its schedule as far as the clock
 * can tell, however fast or slow the machine.
 *
 * <p>The clock moves by the scenario's coarse step, by 1 s for a while after anything that starts a
 * quiet period (the queues emptying, an agent starting, the action becoming active), and always
 * lands exactly on scheduled events and on the instants the agent's decision thread plans to wake.
 */
final class ScenarioRunner {

  static final String GROUP = "workers";
  static final String HOOK = "hold-queues";
  static final String REGION = "eu-west-1";

  /** The agent's tick: each clock step is evaluated within about a millisecond. */
  static final Duration TICK = Duration.ofMillis(1);

  /** Real time an agent may take to evaluate one step or to see one queue change. */
  static final Duration WAIT_LIMIT = Duration.ofSeconds(10);

  private static final long WAIT_POLL_NANOS = 100_000;

  /** Fine clock step, used while a quiet period may be ending. */
  static final Duration FINE = Duration.ofSeconds(1);

  /** How long after the last scheduled thing the scenario goes on, beyond the quiet period. */
  static final Duration TAIL = Duration.ofSeconds(40);

  /** Thrown to end a run that cannot go on (the agent stopped answering); reported as a problem. */
  static final class Abort extends RuntimeException {
    Abort(String message) {
      super(message);
    }
  }

  private record Pending(Instant at, long seq, String what, Runnable action) {}

  private final Scenario scenario;
  private final Scenario.Params p;
  private final Path work;
  private final String instanceId;
  private final MutableClock clock = MutableClock.atNewYear();
  private final Instant t0 = clock.instant();
  private final List<Path> roots = new ArrayList<>();
  private final List<Map<Path, Integer>> queued = new ArrayList<>();
  private final List<QueueChange> changes = new ArrayList<>();
  private final List<Incarnation> agents = new ArrayList<>();
  private final List<String> problems = new ArrayList<>();
  private final PriorityQueue<Pending> pending =
      new PriorityQueue<>(Comparator.comparing(Pending::at).thenComparingLong(Pending::seq));
  private long seq;
  private int steps;
  private Simulator sim;
  private InProcessAgent agent;
  private Instant agentStart;
  private List<DrainStatus> statuses;
  private boolean startWanted;
  private Instant destinationDownUntil = Instant.MIN;
  private Instant imdsDownUntil = Instant.MIN;

  /** A stretch of time the clock crosses in steps of {@code step} at most. */
  private record Window(Instant from, Instant until, Duration step) {}

  private final List<Window> fineWindows = new ArrayList<>();
  private Instant end;
  private Instant scaleInAt;

  ScenarioRunner(Scenario scenario, Path work) {
    this.scenario = scenario;
    this.p = scenario.params();
    this.work = work;
    this.instanceId = String.format("i-%017x", scenario.seed() & 0xFFFFFFFFFFFFFL);
  }

  String instanceId() {
    return instanceId;
  }

  Trace run() {
    sim = Simulator.start(clock);
    try {
      sim.addGroup(GROUP);
      sim.addInstance(GROUP, instanceId, REGION, true);
      sim.addTerminationHook(GROUP, HOOK, p.heartbeatTimeout(), p.defaultResult());
      sim.setRetainOnTerminateHookAbandon(GROUP, p.groupRetains());
      sim.setDeregistrationDelay(p.deregistration());
      for (int i = 0; i < p.roots(); i++) {
        Path root = work.resolve("q" + i);
        Files.createDirectories(root);
        roots.add(root);
        queued.add(new LinkedHashMap<>());
      }
      end = t0.plus(p.horizon());
      for (Event e : scenario.events()) {
        schedule(t0.plusSeconds(e.at()), e.toString(), () -> apply(e));
      }
      record();
      startAgent();
      loop();
    } catch (Abort e) {
      problems.add(e.getMessage());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      stopAgent();
    }
    Trace t = trace();
    sim.close();
    return t;
  }

  private void loop() {
    Instant now = clock.instant();
    while (true) {
      while (!pending.isEmpty() && !pending.peek().at().isAfter(now)) {
        pending.poll().action().run();
      }
      if (!now.isBefore(end) && pending.isEmpty()) {
        return;
      }
      Instant next = nextStep(now);
      if (!pending.isEmpty() && pending.peek().at().isBefore(next)) {
        next = pending.peek().at();
      }
      if (next.isAfter(end) && now.isBefore(end)) {
        next = end;
      }
      clock.set(next);
      steps++;
      now = next;
      settle();
    }
  }

  /**
   * The next instant the clock stops at: the coarse step, or the fine one inside a window where a
   * quiet period may end; never past the start of the next such window, nor past an instant at
   * which the running agent's own timers fire (its next heartbeat, its deadline, the end of its
   * quiet period), as a continuously running clock would not skip them either.
   */
  private Instant nextStep(Instant now) {
    Instant next = now.plus(p.coarseStep());
    for (Window w : fineWindows) {
      if (!now.isBefore(w.from()) && now.isBefore(w.until())) {
        next = earliest(next, now.plus(w.step()), now);
      } else {
        next = earliest(next, w.from(), now);
      }
    }
    if (agent != null) {
      DrainStatus s = agent.status();
      if (s.phase() == Phase.HOLDING || s.phase() == Phase.DRAINED) {
        next = earliest(next, s.nextHeartbeat().orElse(null), now);
      }
      if (!s.phase().terminal() && s.phase() != Phase.IN_SERVICE) {
        next = earliest(next, s.deadline().orElse(null), now);
        next = earliest(next, s.emptySince().map(e -> e.plus(p.quietPeriod())).orElse(null), now);
      }
      // Any other timer of the decision thread: a "not active yet" retry, a call's cool-down.
      next = earliest(next, agent.plannedWake().orElse(null), now);
    }
    return next;
  }

  /** {@code candidate} when it is after {@code now} and before {@code next}, else {@code next}. */
  private static Instant earliest(Instant next, Instant candidate, Instant now) {
    return candidate != null && candidate.isAfter(now) && candidate.isBefore(next)
        ? candidate
        : next;
  }

  private void schedule(Instant at, String what, Runnable action) {
    pending.add(new Pending(at, seq++, what, action));
    Instant after = at.plus(p.quietPeriod()).plus(TAIL);
    if (after.isAfter(end)) {
      end = after;
    }
  }

  private void apply(Event e) {
    Instant now = clock.instant();
    if (e instanceof Write w) {
      write(w);
    } else if (e instanceof Drain d) {
      if (now.isBefore(destinationDownUntil)) {
        schedule(destinationDownUntil, d + " (after the outage)", () -> apply(d));
      } else {
        remove(d.root(), d.name());
      }
    } else if (e instanceof DrainAll d) {
      if (now.isBefore(destinationDownUntil)) {
        schedule(destinationDownUntil, d + " (after the outage)", () -> apply(d));
      } else {
        removeAll();
      }
    } else if (e instanceof DestinationDown d) {
      Instant until = now.plus(d.length());
      if (until.isAfter(destinationDownUntil)) {
        destinationDownUntil = until;
      }
    } else if (e instanceof ScaleIn) {
      scaleInAt = now;
      sim.terminate(instanceId);
      fineAfter(now.plus(p.deregistration()).plusSeconds(ScenarioGenerator.CALL_RETRY_S));
    } else if (e instanceof Restart r) {
      if (agent == null) {
        return; // already down: a kill of a dead agent changes nothing
      }
      stopAgent();
      if (r.down().isZero()) {
        startAgent();
      } else {
        schedule(now.plus(r.down()), "agent back", this::startAgent);
      }
    } else if (e instanceof ImdsErrors f) {
      sim.failImds(f.count(), f.status());
    } else if (e instanceof ImdsTokensRevoked) {
      sim.revokeImdsTokens();
    } else if (e instanceof ImdsDown f) {
      sim.setImdsAvailable(false);
      Instant until = now.plus(f.length());
      if (until.isAfter(imdsDownUntil)) {
        imdsDownUntil = until;
      }
      schedule(
          until,
          "IMDS back",
          () -> {
            if (clock.instant().isBefore(imdsDownUntil)) {
              return; // a later outage still runs
            }
            sim.setImdsAvailable(true);
            if (startWanted) {
              startAgent();
            }
          });
    } else if (e instanceof ApiErrors f) {
      sim.failApi(f.action(), f.count(), f.status(), f.code(), "injected by scenario");
    }
    settle();
  }

  // ---- the queues ----

  private void write(Write w) {
    Path file = roots.get(w.root()).resolve(w.name());
    beforeChange();
    try {
      Files.createDirectories(file.getParent());
      Files.write(file, new byte[w.bytes()]);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    queued.get(w.root()).merge(file, w.bytes(), (a, b) -> b);
    record();
    syncQueues();
  }

  private void remove(int root, String name) {
    Path file = roots.get(root).resolve(name);
    if (!queued.get(root).containsKey(file)) {
      return;
    }
    beforeChange();
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    queued.get(root).remove(file);
    record();
    syncQueues();
  }

  private void removeAll() {
    if (queued.stream().allMatch(Map::isEmpty)) {
      return;
    }
    beforeChange();
    for (Map<Path, Integer> files : queued) {
      for (Path f : files.keySet()) {
        try {
          Files.deleteIfExists(f);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
      files.clear();
    }
    record();
    syncQueues();
  }

  /**
   * Lets a tick that is still evaluating this instant finish, so that what the agent decided before
   * the change is told apart (by the call index) from what it decides after.
   */
  private void beforeChange() {
    settle();
    LockSupport.parkNanos(2 * TICK.toNanos());
  }

  private List<Long> bytes() {
    return queued.stream()
        .map(m -> m.values().stream().mapToLong(Integer::longValue).sum())
        .toList();
  }

  private boolean modelEmpty() {
    return bytes().stream().allMatch(b -> b <= p.residualBytes());
  }

  private void record() {
    boolean wasEmpty = changes.isEmpty() || isEmpty(changes.get(changes.size() - 1).bytes());
    changes.add(new QueueChange(clock.instant(), sim.calls().size(), bytes()));
    if (modelEmpty() && !wasEmpty) {
      fineAfter(clock.instant());
    }
  }

  private boolean isEmpty(List<Long> b) {
    return b.stream().allMatch(x -> x <= p.residualBytes());
  }

  /**
   * A quiet period may start at {@code from}: after its end the clock steps by 1 s for one poll
   * (the action found active, IMDS read), so that a late completion is measured to the second.
   */
  private void fineAfter(Instant from) {
    Instant quietEnd = from.plus(p.quietPeriod());
    Instant fineUntil = quietEnd.plus(Invariants.POLL).plus(FINE.multipliedBy(2));
    fineWindows.removeIf(w -> w.until().isBefore(clock.instant()));
    fineWindows.add(new Window(quietEnd, fineUntil, FINE));
  }

  // ---- the agent ----

  private AgentConfig config() {
    Map<Setting, List<String>> flags = new EnumMap<>(Setting.class);
    flags.put(Setting.QUEUE_ROOT, roots.stream().map(Path::toString).toList());
    flags.put(Setting.IMDS_ENDPOINT, List.of(sim.imdsEndpoint().toString()));
    flags.put(Setting.AUTOSCALING_ENDPOINT, List.of(sim.autoScalingEndpoint().toString()));
    flags.put(Setting.LOOPBACK_ONLY, List.of("true"));
    flags.put(Setting.CONTROL_SOCKET, List.of(work.resolve("c.sock").toString()));
    flags.put(Setting.QUIET_PERIOD, List.of(p.quietPeriod().toSeconds() + "s"));
    flags.put(Setting.IMDS_POLL_INTERVAL, List.of(p.imdsPoll().toSeconds() + "s"));
    flags.put(Setting.IMDS_STARTUP_TIMEOUT, List.of("2m"));
    flags.put(Setting.HEARTBEAT_INTERVAL, List.of(p.heartbeatInterval().toSeconds() + "s"));
    flags.put(Setting.DEADLINE_POLICY, List.of(p.policy()));
    flags.put(Setting.DEADLINE_MARGIN, List.of(p.deadlineMargin().toSeconds() + "s"));
    p.maxHold().ifPresent(m -> flags.put(Setting.MAX_HOLD, List.of(m.toSeconds() + "s")));
    flags.put(Setting.RESIDUAL_BYTES, List.of(Long.toString(p.residualBytes())));
    flags.put(Setting.PROTECT_WHILE_BUSY, List.of(Boolean.toString(p.protectWhileBusy())));
    return new ConfigLoader(flags, Map.of(), Optional.empty()).loadWithoutFile();
  }

  private void startAgent() {
    Instant now = clock.instant();
    if (agent != null) {
      return;
    }
    if (now.isBefore(imdsDownUntil)) {
      // Like systemd restarting an agent that cannot reach IMDS: it is up once IMDS answers.
      startWanted = true;
      return;
    }
    startWanted = false;
    List<DrainStatus> seen = new CopyOnWriteArrayList<>();
    try {
      agent = InProcessAgent.start(config(), clock, seen::add, TICK);
    } catch (RuntimeException e) {
      throw new Abort("the agent failed to start at " + at(now) + ": " + e);
    }
    statuses = seen;
    agentStart = now;
    // The status a new agent starts with already carries this instant: wait for its first tick.
    DrainStatus initial = agent.status();
    await(
        () -> agent.status() != initial,
        () -> "the agent started at " + at(now) + " never evaluated anything");
    settle();
    syncQueues();
    if (modelEmpty()) {
      fineAfter(now);
    }
  }

  private void stopAgent() {
    if (agent == null) {
      return;
    }
    Instant now = clock.instant();
    try {
      statuses.add(agent.status());
      agent.close();
    } finally {
      agents.add(new Incarnation(agentStart, now, List.copyOf(statuses)));
      agent = null;
    }
  }

  /** Waits until the agent has evaluated the clock's current instant. */
  private void settle() {
    if (agent == null) {
      return;
    }
    Instant now = clock.instant();
    await(
        () -> !agent.status().evaluatedAt().isBefore(now) && agent.settled(),
        () -> "the agent did not evaluate " + at(now) + " within " + WAIT_LIMIT);
  }

  /** Waits until the agent's view of every root is the test's own. */
  private void syncQueues() {
    if (agent == null) {
      return;
    }
    List<Long> want = bytes();
    await(
        () -> {
          List<RootStatus> seen = agent.status().queues().roots();
          for (int i = 0; i < want.size(); i++) {
            if (seen.get(i).error().isPresent() || seen.get(i).bytes() != want.get(i)) {
              return false;
            }
          }
          return true;
        },
        () ->
            "the agent's view of the queues "
                + agent.status().queues().roots()
                + " did not become "
                + want
                + " within "
                + WAIT_LIMIT
                + " at "
                + at(clock.instant()));
  }

  private void await(BooleanSupplier done, Supplier<String> failure) {
    long giveUp = System.nanoTime() + WAIT_LIMIT.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() - giveUp > 0) {
        throw new Abort(failure.get());
      }
      LockSupport.parkNanos(WAIT_POLL_NANOS);
    }
  }

  private Trace trace() {
    Optional<Instant> actionStart =
        Optional.ofNullable(scaleInAt)
            .map(s -> s.plus(p.deregistration()))
            .filter(a -> !a.isAfter(clock.instant()));
    return new Trace(
        scenario,
        instanceId,
        t0,
        clock.instant(),
        List.copyOf(changes),
        List.copyOf(agents),
        sim.calls(),
        Optional.ofNullable(scaleInAt),
        actionStart,
        sim.actionEnd(instanceId),
        sim.actionEnd(instanceId)
            .filter(a -> p.groupRetains() && "ABANDON".equals(a.result()))
            .map(a -> a.at()),
        sim.terminatedAt(instanceId),
        LogCapture.take(instanceId),
        List.copyOf(problems),
        steps);
  }

  private String at(Instant t) {
    return "+" + Duration.between(t0, t).toSeconds() + "s";
  }
}
