package dev.drainguard.scenario.core;

import dev.drainguard.drain.DeadlinePolicy;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.queue.DrainedWhen;
import dev.drainguard.scenario.core.Plan.Change;
import dev.drainguard.scenario.core.Plan.Fault;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * Builds a {@link Plan} from a seed. Five shapes of scenario — the queues drain before any
 * deadline; they are stuck past {@code max-hold}; past the hook's global timeout; no termination at
 * all; a spot interruption — overlaid with faults drawn independently, from harmless to beyond what
 * any agent could survive (the invariants say exactly what they excuse). Every fault window ends
 * before the plan's calm tail, in which the invariants also check that a drained instance is let
 * go.
 */
final class PlanGenerator {

  private PlanGenerator() {}

  private static final class Draw {
    final SplittableRandom r;

    Draw(long seed) {
      r = new SplittableRandom(seed);
    }

    boolean p(int percent) {
      return r.nextInt(100) < percent;
    }

    long between(long lo, long hi) {
      return hi <= lo ? lo : r.nextLong(lo, hi + 1);
    }

    long logBetween(long lo, long hi) {
      return Math.round(Math.exp(Math.log(lo) + r.nextDouble() * (Math.log(hi) - Math.log(lo))));
    }
  }

  static Plan generate(long seed) {
    Draw d = new Draw(seed);
    int regime = d.r.nextInt(100);
    boolean drains = regime < 55;
    boolean maxHoldHit = regime >= 55 && regime < 72;
    boolean global = regime >= 72 && regime < 77;
    boolean inService = regime >= 77 && regime < 87;
    boolean spot = regime >= 87;

    long ht = global ? d.logBetween(30, 120) : d.logBetween(30, 7200);
    LifecycleResult defaultResult = d.p(80) ? LifecycleResult.ABANDON : LifecycleResult.CONTINUE;
    long hbCfg = d.p(70) ? 7200 : d.between(Math.max(1, ht / 6), ht);
    long every = Math.max(1, Math.min(hbCfg * 1000, ht * 1000 / 3));
    long interval = d.between(1000, 10_000);
    long timeout = d.between(1000, 10_000);
    long quiet =
        d.p(20) ? 0 : d.p(40) ? d.between(1, Math.max(1, interval - 1)) : d.between(1000, 30_000);
    long poll = d.between(1, 10) * 1000;
    boolean command = d.p(40);
    boolean cribl = d.p(40);
    DrainedWhen rule = rule(d, command, cribl);
    long residual = d.p(25) ? d.between(1, 4096) : 0;
    DeadlinePolicy policy = DeadlinePolicy.values()[d.r.nextInt(3)];
    boolean retains = policy == DeadlinePolicy.RETAIN ? d.p(80) : d.p(33);
    long margin = d.p(20) ? 0 : d.p(50) ? d.between(0, 300) : 300;
    long grace = d.p(80) ? 900 : d.between(60, 300);
    long dereg = d.p(45) ? 0 : d.p(70) || global ? d.between(1, 300) : d.between(300, 3600);
    long blipAfter = 0;
    long blipLength = 0;
    if (d.p(25)) {
      blipAfter = d.between(0, 5000);
      blipLength = d.between(500, Math.min(60_000, ht * 1000));
    }
    long latency = d.p(40) ? 200 : d.p(60) ? 3000 : 15_000;
    Optional<Duration> beforeComplete =
        d.p(30) ? Optional.of(Duration.ofMillis(d.between(100, 20_000))) : Optional.empty();
    int exit = d.p(80) ? 0 : d.p(50) ? 1 : -1;
    long writes = beforeComplete.isPresent() && d.p(30) ? d.between(1, 8192) : 0;
    boolean onTermination = d.p(30);
    long commandTimeout = 30_000;
    boolean protect = d.p(15);
    long threshold = d.between(0, 50_000);
    long protectAfter = d.between(0, 30);
    long protectInterval = d.between(10, 120);

    List<Change> changes = new ArrayList<>();
    Writes w = new Writes(d, residual, command, cribl);
    long scaleIn = d.between(1000, 60_000);
    long active = scaleIn + dereg * 1000;
    Optional<Duration> maxHold = Optional.empty();
    long finalDrain;
    if (maxHoldHit) {
      long hold = Math.max(60_000, d.between(60_000, 60_000 + 4 * every));
      maxHold = Optional.of(Duration.ofMillis(hold));
      finalDrain = scaleIn + hold + d.between(1000, 3 * every + 2000);
    } else if (global) {
      long deadline = scaleIn + Math.min(48 * 3600, 100 * ht) * 1000 - margin * 1000;
      finalDrain = deadline + d.between(0, 3 * every);
    } else {
      finalDrain =
          d.p(15) ? scaleIn + d.between(0, dereg * 1000) : active + d.between(0, 6 * every);
      finalDrain = Math.min(finalDrain, active + 3_600_000);
      if (d.p(50)) {
        long needed = finalDrain - scaleIn + quiet + 120_000;
        maxHold = Optional.of(Duration.ofMillis(Math.max(60_000, needed + d.between(0, every))));
      }
    }
    if (!inService) {
      changes.add(new Change.ScaleIn(scaleIn, d.p(25)));
    } else if (d.p(30)) {
      changes.add(new Change.ScaleIn(d.between(scaleIn, finalDrain), d.p(50)));
    }

    // Queued before the scale-in, held until the final drain; traffic while holding; blips.
    int before = d.p(20) ? 0 : (int) d.between(1, 3);
    for (int i = 0; i < before; i++) {
      long at = d.between(0, scaleIn);
      changes.add(w.write(at, finalDrain - at));
    }
    int during = (int) d.between(0, 4);
    for (int i = 0; i < during; i++) {
      long at = d.between(scaleIn, finalDrain);
      changes.add(w.write(at, d.between(100, Math.max(100, finalDrain - at))));
    }
    int blips = (int) d.between(0, 5);
    for (int i = 0; i < blips; i++) {
      long at = d.between(0, finalDrain + 60_000);
      changes.add(w.write(at, d.p(50) ? d.between(20, 2000) : d.between(2000, 15_000)));
    }
    // A burst around the final drain: writes close together, each queued briefly, so that
    // snapshots taken moments apart may arrive in either order just when the quiet period ends.
    boolean burst = d.p(50);
    if (burst) {
      long at = finalDrain + d.between(-5000, 15_000);
      for (int i = 0, n = (int) d.between(1, 6); i < n; i++) {
        at += d.between(50, 3000);
        changes.add(w.write(at, d.p(60) ? d.between(50, 1500) : d.between(200, 2 * quiet + 1000)));
      }
    }
    long last = finalDrain + 75_000;
    if (d.p(10)) {
      for (int i = 0; i < 1 + d.r.nextInt(2); i++) {
        changes.add(new Change.Phantom(d.between(0, finalDrain), d.between(1, 4096)));
      }
    }
    if (d.p(20)) {
      long lower = Math.max(30, ht / d.between(2, 10));
      String result = d.p(80) ? defaultResult.name() : flip(defaultResult);
      changes.add(new Change.PutHook(d.between(0, finalDrain), lower, result));
    }
    if (d.p(20)) {
      operator(d, changes, 0, last);
    }
    if (d.p(5)) {
      changes.add(new Change.Rebalance(d.between(0, last)));
    }
    if (spot) {
      changes.add(new Change.Spot(d.between(0, finalDrain)));
    }
    if (d.p(15)) {
      for (int i = 0; i < 1 + d.r.nextInt(2); i++) {
        long down = d.p(60) ? 0 : d.between(1, 2 * ht * 1000);
        changes.add(new Change.Restart(d.between(0, last), down));
      }
    }
    long maxLate = faults(d, changes, command, cribl, ht, interval, timeout, scaleIn, active, last);
    if (burst && d.p(80)) {
      long lateBy = d.between(500, 10_000);
      changes.add(
          new Change.Window(
              Math.max(0, finalDrain - 10_000), 65_000, Fault.SNAPSHOTS_LATE, null, lateBy));
      maxLate = Math.max(maxLate, lateBy);
    }

    long tail =
        2 * quiet
            + 2 * (interval + timeout + 5000)
            + beforeComplete.map(Duration::toMillis).orElse(0L)
            + commandTimeout
            + poll
            + 8 * latency
            + maxLate
            + blipAfter
            + blipLength
            + 2 * Math.min(180_000, ht * 1000 / 3) // "not active yet" back-off, drawn twice
            + 30_000;
    long horizon = Math.max(last, inService ? 0 : active) + tail;
    changes.sort(Comparator.comparingLong(Change::at));
    Plan.Params params =
        new Plan.Params(
            Duration.ofSeconds(ht),
            defaultResult,
            Duration.ofSeconds(hbCfg),
            Duration.ofMillis(quiet),
            Duration.ofMillis(poll),
            command,
            cribl,
            Duration.ofMillis(interval),
            Duration.ofMillis(timeout),
            rule,
            residual,
            Duration.ofSeconds(d.between(10, 120)),
            policy,
            retains,
            Duration.ofSeconds(margin),
            maxHold,
            Duration.ofSeconds(grace),
            Duration.ofSeconds(dereg),
            Duration.ofMillis(blipAfter),
            Duration.ofMillis(blipLength),
            Duration.ofMillis(latency),
            beforeComplete,
            exit,
            writes,
            onTermination,
            Duration.ofMillis(commandTimeout),
            protect,
            threshold,
            Duration.ofSeconds(protectAfter),
            Duration.ofSeconds(protectInterval),
            Duration.ofMillis(tail),
            Duration.ofMillis(horizon));
    return new Plan(seed, params, changes);
  }

  private static String flip(LifecycleResult r) {
    return r == LifecycleResult.ABANDON ? "CONTINUE" : "ABANDON";
  }

  private static DrainedWhen rule(Draw d, boolean command, boolean cribl) {
    List<String> enabled = new ArrayList<>(List.of(Queues.FILES));
    if (command) {
      enabled.add(Queues.COMMAND);
    }
    if (cribl) {
      enabled.add(Queues.CRIBL);
    }
    if (enabled.size() == 1) {
      return d.p(80) ? DrainedWhen.ALL : new DrainedWhen(DrainedWhen.Mode.NAMED, Set.of("files"));
    }
    if (d.p(55)) {
      return DrainedWhen.ALL;
    }
    if (d.p(45)) {
      return new DrainedWhen(DrainedWhen.Mode.ANY, Set.of());
    }
    Set<String> named = new TreeSet<>();
    for (String s : enabled) {
      if (d.p(50)) {
        named.add(s);
      }
    }
    if (named.isEmpty()) {
      named.add(enabled.get(1 + d.r.nextInt(enabled.size() - 1)));
    }
    return new DrainedWhen(DrainedWhen.Mode.NAMED, named);
  }

  /** An operator's hold and release, in some order, forced or not. */
  private static void operator(Draw d, List<Change> changes, long from, long to) {
    long a = d.between(from, to);
    long b = d.between(a, to);
    switch (d.r.nextInt(4)) {
      case 0 -> {
        changes.add(new Change.Hold(a));
        changes.add(new Change.Release(b, d.p(30)));
      }
      case 1 -> changes.add(new Change.Release(a, d.p(30)));
      case 2 -> {
        changes.add(new Change.Release(a, d.p(30)));
        changes.add(new Change.Hold(b));
      }
      default -> changes.add(new Change.Hold(a));
    }
  }

  /** Draws the fault windows, all ending by {@code last}; returns the longest lateness drawn. */
  private static long faults(
      Draw d,
      List<Change> changes,
      boolean command,
      boolean cribl,
      long ht,
      long interval,
      long timeout,
      long scaleIn,
      long active,
      long last) {
    List<Change.Window> ws = new ArrayList<>();
    if (d.p(10)) {
      ws.add(window(d, 0, last, Fault.API_DOWN, Math.min(600_000, ht * 1500), null, 0));
    }
    if (d.p(10)) {
      ws.add(window(d, 0, last, Fault.HEARTBEAT_FAILS, ht * 1000, null, 0));
    }
    if (d.p(10)) {
      ws.add(window(d, 0, last, Fault.COMPLETE_FAILS, 120_000, null, 0));
    }
    if (d.p(15)) {
      long near = d.p(50) ? Math.max(0, active - 5000) : 0;
      long to = d.p(50) ? Math.min(last, active + 30_000) : last;
      ws.add(window(d, near, to, Fault.DESCRIBE_THROTTLED, 120_000, null, 0));
    }
    if (d.p(8)) {
      ws.add(window(d, 0, last, Fault.ANSWERS_LOST, 30_000, null, 0));
    }
    if (d.p(10)) {
      long from = d.p(50) ? Math.max(0, scaleIn - 10_000) : 0;
      ws.add(window(d, from, last, Fault.IMDS_DOWN, Math.min(ht, 300) * 1000, null, 0));
    }
    if (d.p(35)) {
      ws.add(window(d, 0, last, Fault.SNAPSHOTS_LATE, 120_000, null, d.between(100, 10_000)));
    }
    if (d.p(15)) {
      ws.add(window(d, 0, last, Fault.RESCAN_SLOW, 120_000, null, d.between(1000, 20_000)));
    }
    for (String probe : List.of(Queues.COMMAND, Queues.CRIBL)) {
      if (probe.equals(Queues.COMMAND) ? !command : !cribl) {
        continue;
      }
      if (d.p(15)) {
        ws.add(window(d, 0, last, Fault.PROBE_STALLS, 60_000, probe, 0));
      }
      if (d.p(15)) {
        ws.add(window(d, 0, last, Fault.PROBE_GARBAGE, 60_000, probe, 0));
      }
      if (d.p(15)) {
        long late = d.between(1000, 3 * interval + timeout);
        ws.add(window(d, 0, last, Fault.PROBE_LATE, 60_000, probe, late));
      }
    }
    changes.addAll(ws);
    return ws.stream().mapToLong(Change.Window::maxDelay).max().orElse(0);
  }

  private static Change.Window window(
      Draw d, long from, long to, Fault f, long maxLength, String probe, long maxDelay) {
    long at = d.between(from, Math.max(from, to - 1000));
    long length = d.between(1000, Math.max(1000, Math.min(maxLength, to - at)));
    return new Change.Window(at, length, f, probe, maxDelay);
  }

  /** The writer: parcels in the files root and as the probes count them. */
  private static final class Writes {
    private final Draw d;
    private final long residual;
    private final boolean command;
    private final boolean cribl;
    private int next;

    Writes(Draw d, long residual, boolean command, boolean cribl) {
      this.d = d;
      this.residual = residual;
      this.command = command;
      this.cribl = cribl;
    }

    Change.Write write(long at, long life) {
      long bytes;
      if (residual > 0 && d.p(33)) {
        bytes = residual + (d.p(50) ? 0 : 1); // right at the allowance, or one byte over
      } else {
        bytes = d.p(25) ? d.between(1, 16) : d.between(1, 65_536);
      }
      boolean files = !(command || cribl) || d.p(85);
      long filesLife = files ? Math.max(1, life) : -1;
      long commandLife = command && (!files || d.p(75)) ? jitter(life) : -1;
      long criblLife = cribl && (!files || d.p(75)) ? jitter(life) : -1;
      if (filesLife < 0 && commandLife < 0 && criblLife < 0) {
        filesLife = Math.max(1, life);
      }
      boolean hidden = filesLife > 0 && d.p(15);
      return new Change.Write(at, next++, bytes, filesLife, commandLife, criblLife, hidden);
    }

    private long jitter(long life) {
      return Math.max(1, life + d.between(-2000, 2000));
    }
  }
}
