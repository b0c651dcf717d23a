package dev.drainguard.scenario.core;

import dev.drainguard.drain.DrainController;
import dev.drainguard.drain.DrainSettings;
import dev.drainguard.drain.Event;
import dev.drainguard.drain.HoldStore;
import dev.drainguard.drain.Intent;
import dev.drainguard.drain.Phase;
import dev.drainguard.drain.ProtectionSettings;
import dev.drainguard.lifecycle.LifecycleHookRef;
import dev.drainguard.lifecycle.TerminationHook;
import dev.drainguard.scenario.core.Plan.Change;
import dev.drainguard.scenario.core.Plan.Fault;
import dev.drainguard.scenario.core.Plan.Params;
import dev.drainguard.scenario.core.Timeline.Kind;
import dev.drainguard.sim.InProcessAutoScaling;
import dev.drainguard.testing.MutableClock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * Runs one {@link Plan} against the real {@link DrainController}, deterministically, on a virtual
 * clock: a discrete-event loop over an agenda of (instant, sequence) entries. The world (the
 * queues' truth in {@link Queues}, Auto Scaling in {@link InProcessAutoScaling}) changes as the
 * plan says; the sources ({@link Sources}) read it with the plan's faults and deliver their
 * readings at the instants the faults choose; the intents of every step are carried out by {@link
 * Effects} against the model, with latencies and failures, and their outcomes come back as events.
 * Nothing here reads a real clock or starts a thread.
 */
final class CoreRunner {

  static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");

  /** Beyond the probe timeout, how long a confirmation may go unanswered (as cli.Agent). */
  static final Duration CONFIRM_ALLOWANCE = Duration.ofSeconds(5);

  /** After a spot interruption notice, EC2 takes the instance. */
  static final long SPOT_WARNING_MS = 120_000;

  /** Once the instance is terminated, how long its agent may still run while it shuts down. */
  static final long TERMINATED_GRACE_MS = 30_000;

  private record Pending(long at, long seq, Runnable action) {}

  final Plan plan;
  final Params p;
  final MutableClock clock = new MutableClock(T0);
  final InProcessAutoScaling aws;
  final Queues queues;
  final Timeline tl = new Timeline();
  final List<Change.Window> windows = new ArrayList<>();

  /** Where an operator's hold outlives an agent (as cli.Agent's state directory); see run(). */
  private HoldStore holds = HoldStore.NONE;

  private Path holdDir;
  private final PriorityQueue<Pending> agenda =
      new PriorityQueue<>(
          (a, b) -> a.at != b.at ? Long.compare(a.at, b.at) : Long.compare(a.seq, b.seq));
  private long seq;
  private long now;
  private long end;
  private int nextParcel;
  Agent agent;

  CoreRunner(Plan plan) {
    this.plan = plan;
    this.p = plan.params();
    this.queues = new Queues(p.residualBytes());
    tl.queues = queues;
    this.aws =
        new InProcessAutoScaling(
            clock,
            p.heartbeatTimeout(),
            p.defaultResult().name(),
            p.groupRetains(),
            p.deregistration(),
            p.blipAfter(),
            p.blipLength());
    TerminationHook h = aws.hooks().get(0);
    tl.hooks.add(new Timeline.HookVersion(0, h.heartbeatTimeout(), h.globalTimeout()));
  }

  /** A number in [0, 1) fixed by the seed and the name of the draw, so shrinking keeps the rest. */
  double draw(String tag, long n) {
    long h = plan.seed() * 0x9E3779B97F4A7C15L + tag.hashCode() * 0xC2B2AE3D27D4EB4FL + n;
    return new SplittableRandom(h).nextDouble();
  }

  long now() {
    return now;
  }

  Optional<Change.Window> window(Fault f, long t) {
    for (Change.Window w : windows) {
      if (w.fault() == f && w.covers(t)) {
        return Optional.of(w);
      }
    }
    return Optional.empty();
  }

  Optional<Change.Window> probeWindow(Fault f, String probe, long t) {
    for (Change.Window w : windows) {
      if (w.fault() == f && probe.equals(w.probe()) && w.covers(t)) {
        return Optional.of(w);
      }
    }
    return Optional.empty();
  }

  void at(long t, Runnable action) {
    agenda.add(new Pending(Math.max(t, now), seq++, action));
  }

  Timeline run() {
    try {
      if (plan.changes().stream().anyMatch(c -> c instanceof Change.Hold)) {
        holdDir = Files.createTempDirectory("drainguard-holds");
        holds = HoldStore.in(holdDir);
      }
      return runAgenda();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      if (holdDir != null) {
        try (var files = Files.walk(holdDir)) {
          files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
          // best effort: a temporary directory
        }
      }
    }
  }

  private Timeline runAgenda() {
    end = p.horizon().toMillis();
    for (Change c : plan.changes()) {
      if (c instanceof Change.Window w) {
        windows.add(w);
      } else if (c instanceof Change.Write w) {
        addWrite(w);
      } else {
        at(c.at(), () -> apply(c));
      }
    }
    at(0, () -> startAgent());
    while (!agenda.isEmpty()) {
      Pending next = agenda.poll();
      if (next.at > end) {
        break;
      }
      now = next.at;
      clock.set(T0.plusMillis(now));
      try {
        next.action.run();
      } catch (RuntimeException e) {
        tl.problems.add("(runner) at +" + now + "ms: " + e);
        break;
      }
    }
    now = Math.max(now, end);
    clock.set(T0.plusMillis(end));
    tl.end = end;
    tl.actionEnd = aws.actionEnd();
    tl.actionEndAt = tl.actionEnd.map(e -> e.at().toEpochMilli() - T0.toEpochMilli()).orElse(-1L);
    tl.terminatedAt = aws.terminatedAt().map(x -> x.toEpochMilli() - T0.toEpochMilli());
    if (agent != null) {
      agent.stop(end);
    }
    return tl;
  }

  /** Once the instance is terminated, its agent has {@link #TERMINATED_GRACE_MS} left. */
  void checkTerminated() {
    aws.terminatedAt()
        .ifPresent(x -> endAt(x.toEpochMilli() - T0.toEpochMilli() + TERMINATED_GRACE_MS));
  }

  /** Stops the run at {@code t}: the instance is gone (terminated, or taken by EC2). */
  void endAt(long t) {
    end = Math.min(end, t);
  }

  private void addWrite(Change.Write w) {
    add(w.at(), Queues.FILES, w.bytes(), w.filesLife(), w.hidden(), false);
    add(w.at(), Queues.COMMAND, w.bytes(), w.commandLife(), false, false);
    add(w.at(), Queues.CRIBL, w.bytes(), w.criblLife(), false, false);
  }

  /** A parcel from {@code start} for {@code life} ms (-1: none; MAX: never drains). */
  void add(long start, String source, long bytes, long life, boolean hidden, boolean flush) {
    if (life < 0 || !p.sources().contains(source)) {
      return;
    }
    long until = life == Long.MAX_VALUE ? Long.MAX_VALUE : start + life;
    queues.add(new Queues.Parcel(nextParcel++, source, bytes, start, until, hidden, flush));
    if (source.equals(Queues.FILES)) {
      at(start, () -> filesChanged());
      if (until != Long.MAX_VALUE) {
        at(until, () -> filesChanged());
      }
    }
  }

  private void filesChanged() {
    if (agent != null) {
      agent.sources.publishIfChanged(Kind.WATCHER);
    }
  }

  private void apply(Change c) {
    if (c instanceof Change.Phantom ph) {
      queues.addPhantom(ph.bytes());
      filesChanged();
    } else if (c instanceof Change.ScaleIn s) {
      scaleIn(s);
    } else if (c instanceof Change.PutHook h) {
      aws.putHook(Duration.ofSeconds(h.heartbeatTimeoutSeconds()), h.defaultResult());
      TerminationHook current = aws.hooks().get(0);
      tl.hooks.add(
          new Timeline.HookVersion(c.at(), current.heartbeatTimeout(), current.globalTimeout()));
    } else if (c instanceof Change.Hold) {
      operator(true, false);
    } else if (c instanceof Change.Release r) {
      operator(false, r.force());
    } else if (c instanceof Change.Spot) {
      aws.spotInterruption(T0.plusMillis(now + SPOT_WARNING_MS));
      tl.spotAt = now;
      endAt(now + SPOT_WARNING_MS);
    } else if (c instanceof Change.Rebalance) {
      aws.rebalanceRecommendation(T0.plusMillis(now));
    } else if (c instanceof Change.Restart r) {
      if (agent != null) {
        agent.stop(now);
        agent = null;
        at(now + r.down(), () -> startAgent());
      }
    } else {
      throw new IllegalStateException("not a scheduled change: " + c);
    }
  }

  private void scaleIn(Change.ScaleIn s) {
    if (tl.terminationStart >= 0) {
      return;
    }
    if (s.replacement()) {
      aws.replace();
    } else {
      aws.scaleIn();
    }
    if (!aws.lifecycleState().equals("InService")) {
      tl.terminationStart = now;
      tl.deregistration = p.deregistration().toMillis();
    }
  }

  private void operator(boolean hold, boolean force) {
    if (agent == null || !agent.alive) {
      return;
    }
    Instant t = clock.instant();
    Phase phase = agent.c.status().phase();
    boolean accepted =
        hold
            ? agent.c.hold("scenario", t).accepted()
            : agent.c.release(force, "scenario", t).accepted();
    tl.operator.add(new Timeline.Operator(agent.id, now, hold, force, accepted, phase));
    agent.deliver(new Event.Wake()); // the loop steps after every operator request
  }

  private void startAgent() {
    if (tl.spotAt >= 0 && now >= tl.spotAt + SPOT_WARNING_MS) {
      return;
    }
    agent = new Agent(tl.incarnations.size(), now);
    tl.incarnations.add(new Timeline.Incarnation(agent.id, now, Long.MAX_VALUE));
    agent.start();
  }

  /** One agent process: its controller, its sources' schedules and the calls it has in flight. */
  final class Agent {
    final int id;
    final long start;
    final DrainController c;
    final Sources sources;
    final Effects effects;
    boolean alive = true;
    private long wake = -1;

    Agent(int id, long start) {
      this.id = id;
      this.start = start;
      ProtectionSettings protection =
          new ProtectionSettings(
              p.protectWhileBusy(),
              p.protectThreshold(),
              p.protectAfter(),
              p.protectInterval(),
              p.protectWhileBusy() && aws.isProtected());
      DrainSettings settings =
          new DrainSettings(
              p.quietPeriod(),
              p.heartbeatInterval(),
              p.actionGrace(),
              p.policy(),
              p.deadlineMargin(),
              p.maxHold(),
              p.imdsPoll(),
              p.beforeComplete().map(d -> "flush-queues"),
              p.commandTimeout(),
              p.onTermination() ? Optional.of("notify-team") : Optional.empty(),
              protection);
      Map<String, Duration> ages = new LinkedHashMap<>();
      for (String s : p.sources()) {
        if (!s.equals(Queues.FILES)) {
          ages.put(s, p.probeInterval().plus(p.probeTimeout()));
        }
      }
      this.sources = new Sources(CoreRunner.this, this);
      this.effects = new Effects(CoreRunner.this, this);
      queues.rescan(start); // a new watcher walks its roots first
      Queues.Seen first = sources.firstView();
      c =
          new DrainController(
              settings,
              new LifecycleHookRef(
                  InProcessAutoScaling.GROUP,
                  InProcessAutoScaling.HOOK,
                  InProcessAutoScaling.INSTANCE),
              aws.hooks().get(0),
              p.drainedWhen(),
              ages,
              queues.snapshot(clock.instant(), first),
              clock.instant(),
              p.probeTimeout().plus(CONFIRM_ALLOWANCE),
              s -> {},
              new SplittableRandom(plan.seed() * 31 + id)); // the back-off's jitter, reproducible
    }

    void start() {
      c.restoreHolds(holds, clock.instant()); // as cli.Agent: a kept hold holds again
      deliver(new Event.Wake());
      sources.start();
    }

    boolean terminal() {
      return c.status().phase().terminal();
    }

    void stop(long t) {
      if (!alive) {
        return;
      }
      alive = false;
      tl.incarnations.set(id, new Timeline.Incarnation(id, start, t));
    }

    /** Steps the controller with {@code e} now, carries out its intents; false if not alive. */
    boolean deliver(Event e) {
      if (!alive || agent != this) {
        return false;
      }
      Phase before = c.status().phase();
      List<Intent> out;
      try {
        out = c.step(e, clock.instant());
      } catch (RuntimeException x) {
        tl.problems.add("(runner) step threw at +" + now + "ms on " + e + ": " + x);
        return true;
      }
      tl.steps++;
      tl.stepKinds.merge(e.getClass().getSimpleName(), 1L, Long::sum);
      tl.stepKinds.merge(e.getClass().getSimpleName(), 1L, Long::sum);
      Phase after = c.status().phase();
      if (after != before) {
        tl.phases.add(new Timeline.PhaseChange(id, now, after, aws.lifecycleState()));
      }
      for (Intent i : out) {
        tl.emitted.add(new Timeline.Emitted(id, now, before, after, i));
        effects.execute(i);
      }
      c.nextWake(clock.instant()).ifPresentOrElse(this::wakeAt, () -> wake = -1);
      return true;
    }

    /**
     * As DrainLoop: after every step the loop waits until the next instant the controller says is
     * due, and only that one; an instant asked for earlier and since replaced is not a wake-up.
     */
    private void wakeAt(Instant due) {
      long ms = due.toEpochMilli() - T0.toEpochMilli();
      if (due.getNano() % 1_000_000 != 0) {
        ms++; // never wake before the instant asked for: it would ask for the same instant again
      }
      long t = Math.max(ms, now + 1);
      if (t == wake) {
        return;
      }
      wake = t;
      at(
          t,
          () -> {
            if (wake == t) {
              wake = -1;
              deliver(new Event.Wake());
            }
          });
    }
  }
}
