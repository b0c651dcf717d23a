package dev.drainguard.scenario.core;

import dev.drainguard.drain.Event;
import dev.drainguard.drain.Phase;
import dev.drainguard.imds.SpotNotice;
import dev.drainguard.imds.TargetLifecycleState;
import dev.drainguard.queue.ProbeReading;
import dev.drainguard.queue.QueueSnapshot;
import dev.drainguard.scenario.core.Plan.Change.Window;
import dev.drainguard.scenario.core.Plan.Fault;
import dev.drainguard.scenario.core.Timeline.Kind;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One incarnation's sources, as cli.Agent wires them: the IMDS poller (target state while in
 * service, spot notices always), the filesystem watcher (a snapshot per change it sees, a periodic
 * reconcile, a full rescan when asked), and the scheduled probes (fixed rate on one thread each, so
 * a read that hangs delays the next). Each reading is taken from the world at one instant and
 * reaches the core at another, as the plan's faults decide.
 */
final class Sources {

  /** How late a reading normally arrives: the source's own thread, then the decision queue. */
  static final long NORMAL_SNAPSHOT_MS = 50;

  static final long NORMAL_RESCAN_MS = 100;
  static final long NORMAL_PROBE_MS = 300;
  static final long NORMAL_IMDS_MS = 200;

  private final CoreRunner r;
  private final CoreRunner.Agent a;
  private final Map<String, Long> probeSeq = new HashMap<>();
  private long filesSeq;
  private Queues.Seen published;
  private boolean rebalanceSeen;
  private long draws;

  Sources(CoreRunner r, CoreRunner.Agent a) {
    this.r = r;
    this.a = a;
  }

  /** The new watcher's first walk, which the controller is built with. */
  Queues.Seen firstView() {
    published = r.queues.watcherView(a.start);
    record(Queues.FILES, Kind.RECONCILE, a.start, a.start, true, published);
    return published;
  }

  void start() {
    r.at(a.start, this::poll);
    for (String s : r.p.sources()) {
      if (!s.equals(Queues.FILES)) {
        r.at(a.start, () -> scheduledRead(s));
      }
    }
    r.at(a.start + r.p.reconcile().toMillis(), this::reconcile);
  }

  private boolean current() {
    return a.alive && r.agent == a;
  }

  private long late(long t, Fault f, long normal) {
    Optional<Window> w = r.window(f, t);
    double u = r.draw("source-delay", a.id * 1_000_003L + draws++);
    return t + (long) (u * (w.isPresent() ? w.get().maxDelay() : normal));
  }

  // ---- IMDS ----

  private void poll() {
    if (!current() || a.terminal()) {
      return; // a finished drain reads nothing more
    }
    long t = r.now();
    r.checkTerminated();
    Event.ImdsPolled e;
    if (r.window(Fault.IMDS_DOWN, t).isPresent()) {
      e =
          new Event.ImdsPolled(
              Optional.empty(),
              Optional.empty(),
              Optional.empty(),
              Optional.of("read target lifecycle state: connection refused (injected)"));
    } else {
      Optional<TargetLifecycleState> target =
          a.c.status().phase() == Phase.IN_SERVICE
              ? Optional.of(TargetLifecycleState.parse(r.aws.targetLifecycleState()))
              : Optional.empty();
      Optional<SpotNotice> spot =
          r.aws
              .spotInterruptionTime()
              .map(x -> new SpotNotice(SpotNotice.Kind.INTERRUPTION, "terminate", x));
      Optional<SpotNotice> rebalance = Optional.empty();
      if (!rebalanceSeen) {
        rebalance =
            r.aws.rebalanceNoticeTime().map(x -> new SpotNotice(SpotNotice.Kind.REBALANCE, "", x));
        rebalanceSeen = rebalance.isPresent();
      }
      e = new Event.ImdsPolled(target, rebalance, spot, Optional.empty());
    }
    r.at(
        late(t, Fault.IMDS_DOWN, NORMAL_IMDS_MS),
        () -> {
          if (current()) {
            r.tl.imds.add(new Timeline.Imds(a.id, t, r.now(), e.target()));
            a.deliver(e);
          }
        });
    r.at(t + r.p.imdsPoll().toMillis(), this::poll);
  }

  // ---- the filesystem watcher ----

  /** The watcher publishes what it now counts, if that changed. */
  void publishIfChanged(Kind kind) {
    if (!current() || a.terminal()) {
      return;
    }
    long t = r.now();
    Queues.Seen v = r.queues.watcherView(t);
    if (published != null && v.files() == published.files() && v.bytes() == published.bytes()) {
      return;
    }
    published = v;
    deliverFiles(v, ++filesSeq, kind, t, late(t, Fault.SNAPSHOTS_LATE, NORMAL_SNAPSHOT_MS));
  }

  private void reconcile() {
    if (!current() || a.terminal()) {
      return;
    }
    r.queues.rescan(r.now());
    publishIfChanged(Kind.RECONCILE);
    r.at(r.now() + r.p.reconcile().toMillis(), this::reconcile);
  }

  /** {@link dev.drainguard.drain.Intent.Confirm}: a full rescan and a fresh read of each probe. */
  void confirm() {
    long t = r.now();
    long seq = ++filesSeq; // numbered when asked, as ProbeSet.confirm does
    r.queues.rescan(t);
    publishIfChanged(Kind.RECONCILE); // the watcher's own view is repaired by the walk
    Queues.Seen v = r.queues.watcherView(t);
    deliverFiles(v, seq, Kind.RESCAN, t, late(t, Fault.RESCAN_SLOW, NORMAL_RESCAN_MS));
    for (String s : r.p.sources()) {
      if (!s.equals(Queues.FILES)) {
        read(s, t);
      }
    }
  }

  private void deliverFiles(Queues.Seen v, long seq, Kind kind, long takenAt, long at) {
    QueueSnapshot s = r.queues.snapshot(CoreRunner.T0.plusMillis(takenAt), v);
    Event e = new Event.FilesRead(s, seq, kind == Kind.RESCAN);
    r.at(
        at,
        () -> {
          if (current()) {
            record(Queues.FILES, kind, takenAt, r.now(), true, v);
            a.deliver(e);
          }
        });
  }

  // ---- scheduled probes ----

  private void scheduledRead(String probe) {
    if (!current() || a.terminal()) {
      return;
    }
    long t = r.now();
    long free = read(probe, t);
    r.at(Math.max(t + r.p.probeInterval().toMillis(), free), () -> scheduledRead(probe));
  }

  /** Starts one read of {@code probe} now; returns when its thread is free again. */
  private long read(String probe, long t) {
    long seq = probeSeq.merge(probe, 1L, Long::sum);
    Optional<Window> stall = r.probeWindow(Fault.PROBE_STALLS, probe, t);
    if (stall.isPresent()) {
      return stall.get().end(); // never answers; its thread is stuck until the stall ends
    }
    Instant readAt = r.clock.instant();
    ProbeReading reading;
    Queues.Seen seen;
    long at;
    if (r.probeWindow(Fault.PROBE_GARBAGE, probe, t).isPresent()) {
      reading = ProbeReading.unknown(probe, readAt, "output is not one answer: garbage (injected)");
      seen = new Queues.Seen(0, 0, new int[0]);
      at = t + (long) (r.draw("probe-delay", a.id * 1_000_003L + draws++) * NORMAL_PROBE_MS);
    } else {
      seen = r.queues.truth(probe, t);
      reading = Queues.reading(probe, readAt, seen);
      Optional<Window> w = r.probeWindow(Fault.PROBE_LATE, probe, t);
      double u = r.draw("probe-delay", a.id * 1_000_003L + draws++);
      at = t + (long) (u * (w.isPresent() ? w.get().maxDelay() : NORMAL_PROBE_MS));
    }
    Event e = new Event.ProbeRead(reading, seq);
    boolean known = reading.unknown().isEmpty();
    r.at(
        at,
        () -> {
          if (current()) {
            record(probe, Kind.PROBE, t, r.now(), known, seen);
            a.deliver(e);
          }
        });
    return at;
  }

  private void record(
      String source, Kind kind, long takenAt, long deliveredAt, boolean known, Queues.Seen s) {
    boolean empty = known && r.queues.empty(source, s);
    r.tl.deliveries.add(
        new Timeline.Delivery(a.id, source, kind, takenAt, deliveredAt, known, empty, s.parcels()));
  }
}
