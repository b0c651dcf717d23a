package dev.drainguard.scenario.core;

import dev.drainguard.drain.DeadlinePolicy;
import dev.drainguard.drain.Intent;
import dev.drainguard.drain.Intent.CallKind;
import dev.drainguard.drain.Phase;
import dev.drainguard.imds.TargetLifecycleState;
import dev.drainguard.scenario.core.Plan.Change;
import dev.drainguard.scenario.core.Timeline.Emitted;
import dev.drainguard.scenario.core.Timeline.HookVersion;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The promises, judged on a whole {@link Timeline} after the run. See {@link CoreScenariosTest} for
 * the list; (a) is {@link ReleaseCheck}; (d) is checked live by {@link Effects}.
 */
final class CoreInvariants {

  /** Retention: how long after ABANDON the instance may take to show as retained (Retention). */
  static final long CONFIRM_LIMIT_MS = 120_000;

  /** After a failed call, how soon the core tries again (Termination.CALL_RETRY). */
  static final long RETRY_MS = 5_000;

  /** The longest "not active yet" pause (net.JitteredBackoff.NOT_ACTIVE_YET's cap). */
  static final long MAX_NOT_ACTIVE_PAUSE_MS = 180_000;

  private final Plan plan;
  private final Plan.Params p;
  private final Timeline t;
  private final ReleaseCheck release;
  private final List<String> v = new ArrayList<>();

  private CoreInvariants(Plan plan, Timeline t) {
    this.plan = plan;
    this.p = plan.params();
    this.t = t;
    this.release = new ReleaseCheck(t, p);
  }

  static List<String> check(Plan plan, Timeline t) {
    CoreInvariants i = new CoreInvariants(plan, t);
    i.v.addAll(t.problems);
    i.releases();
    i.intentsFitThePhase();
    new TimingInvariants(plan, t, i, i.release).check();
    i.lostOnlyWhenGone();
    i.abandonEndsRetainedOrLost();
    i.drainedInstanceLetGo();
    return List.copyOf(i.v);
  }

  void add(String format, Object... args) {
    v.add(String.format(format, args));
  }

  // ---- (a) ----

  private enum Op {
    NONE,
    HOLD,
    RELEASE,
    FORCED
  }

  private record OpState(Op op, long at) {}

  /**
   * The operator's request in force for {@code inc} at {@code at}. A hold is kept across restarts
   * (the state directory's hold file), so it holds for every later incarnation until a release; a
   * release lives only in the agent that took it.
   */
  private OpState operator(int inc, long at) {
    OpState s = new OpState(Op.NONE, 0);
    int releasedBy = -1;
    for (Timeline.Operator o : t.operator) {
      if (o.at() > at || !o.accepted()) {
        continue;
      }
      if (o.hold()) {
        s = new OpState(Op.HOLD, o.at());
      } else if (o.phase() == Phase.IN_SERVICE) {
        s = new OpState(Op.NONE, o.at()); // clears a hold; nothing to release yet
      } else {
        s = new OpState(o.force() ? Op.FORCED : Op.RELEASE, o.at());
        releasedBy = o.inc();
      }
    }
    boolean elsewhere = (s.op() == Op.RELEASE || s.op() == Op.FORCED) && releasedBy != inc;
    return elsewhere ? new OpState(Op.NONE, s.at()) : s;
  }

  /**
   * The earliest deadline {@code inc} may act on at {@code at}: the global timeout of any hook
   * version it could have read, counted from its last IMDS read that was not Terminated, minus the
   * margin; or max-hold after its notice. Long.MAX_VALUE before it noticed the termination.
   */
  long deadline(int inc, long at) {
    return deadline(inc, at, false);
  }

  /**
   * As {@link #deadline(int, long)}; with {@code fromReads}, counted from when the last poll that
   * was not Terminated was read rather than when it arrived (the core knows only the arrival).
   */
  long deadline(int inc, long at, boolean fromReads) {
    long noticed = -1;
    long lastNot = -1;
    for (Timeline.Imds i : t.imds) {
      if (i.inc() != inc || i.target().isEmpty()) {
        continue;
      }
      if (i.target().get() == TargetLifecycleState.TERMINATED) {
        noticed = i.deliveredAt();
        break;
      }
      lastNot = fromReads ? i.takenAt() : i.deliveredAt();
    }
    if (noticed < 0) {
      return Long.MAX_VALUE;
    }
    long start = t.incarnation(inc).start();
    long global = Long.MAX_VALUE;
    for (int k = 0; k < t.hooks.size(); k++) {
      HookVersion h = t.hooks.get(k);
      long until = k + 1 < t.hooks.size() ? t.hooks.get(k + 1).at() : Long.MAX_VALUE;
      if (h.at() <= at && until > start) {
        global = Math.min(global, h.globalTimeout().toMillis());
      }
    }
    long d = (lastNot >= 0 ? lastNot : noticed) + global - p.deadlineMargin().toMillis();
    if (p.maxHold().isPresent()) {
      d = Math.min(d, noticed + p.maxHold().get().toMillis());
    }
    return d;
  }

  private void releases() {
    for (Emitted e : t.emitted) {
      if (!(e.intent() instanceof Intent.Call c)) {
        continue;
      }
      CallKind k = c.kind();
      if (k == CallKind.ABANDON) {
        long d = deadline(e.inc(), e.at());
        if (p.policy() != DeadlinePolicy.RETAIN || e.at() < d) {
          add(
              "(a) ABANDON asked at +%dms by incarnation %d: policy %s, earliest deadline +%dms",
              e.at(), e.inc(), p.policy(), d);
        }
        continue;
      }
      if (k != CallKind.CONTINUE && k != CallKind.TERMINATE) {
        continue;
      }
      OpState op = operator(e.inc(), e.at());
      boolean policy =
          k == CallKind.CONTINUE
              && p.policy() == DeadlinePolicy.COMPLETE
              && e.at() >= deadline(e.inc(), e.at());
      if (op.op() == Op.FORCED || policy) {
        continue;
      }
      if (op.op() == Op.HOLD) {
        add(
            "(a) %s asked at +%dms by incarnation %d while the operator's hold of +%dms was in"
                + " force",
            k, e.at(), e.inc(), op.at());
        continue;
      }
      Optional<String> quiet = release.violation(e.inc(), e.at(), null);
      if (quiet.isEmpty()) {
        continue;
      }
      if (op.op() == Op.RELEASE && release.violation(e.inc(), e.at(), op.at()).isEmpty()) {
        continue;
      }
      add(
          "(a) %s asked at +%dms by incarnation %d (phase %s) with data queued: %s",
          k, e.at(), e.inc(), e.before(), quiet.get());
    }
  }

  // ---- (c) ----

  private static final Set<CallKind> TERMINATING =
      Set.of(
          CallKind.HEARTBEAT,
          CallKind.CONTINUE,
          CallKind.ABANDON,
          CallKind.DESCRIBE_INSTANCE,
          CallKind.DESCRIBE_HOOKS);

  private static boolean allowed(Phase phase, Intent i) {
    if (phase.terminal()) {
      return false;
    }
    if (i instanceof Intent.Call c) {
      return switch (phase) {
        case IN_SERVICE -> c.kind() == CallKind.PROTECT || c.kind() == CallKind.UNPROTECT;
        case AWAITING_ACTION, HOLDING, DRAINED -> TERMINATING.contains(c.kind());
        case RETAINED -> c.kind() == CallKind.DESCRIBE_INSTANCE || c.kind() == CallKind.TERMINATE;
        default -> false;
      };
    }
    if (i instanceof Intent.Confirm) {
      return phase != Phase.IN_SERVICE;
    }
    Intent.RunCommand r = (Intent.RunCommand) i;
    return !r.name().equals("before-complete")
        || phase == Phase.HOLDING
        || phase == Phase.DRAINED
        || phase == Phase.RETAINED;
  }

  private void intentsFitThePhase() {
    Map<Integer, Set<String>> commands = new HashMap<>();
    for (Emitted e : t.emitted) {
      Intent i = e.intent();
      boolean ok = !e.before().terminal() && (allowed(e.before(), i) || allowed(e.after(), i));
      if (i instanceof Intent.Call c) {
        ok &= c.kind() != CallKind.ABANDON || p.policy() == DeadlinePolicy.RETAIN;
        ok &=
            c.kind() != CallKind.PROTECT && c.kind() != CallKind.UNPROTECT || p.protectWhileBusy();
      } else if (i instanceof Intent.RunCommand r) {
        boolean before = r.name().equals("before-complete");
        ok &= before ? p.beforeComplete().isPresent() : p.onTermination();
        ok &= commands.computeIfAbsent(e.inc(), k -> new HashSet<>()).add(r.name());
      }
      if (!ok) {
        add(
            "(c) incarnation %d asked for %s at +%dms in phase %s -> %s",
            e.inc(), i, e.at(), e.before(), e.after());
      }
    }
  }

  // ---- (f) ----

  private static final Set<String> NOT_GONE =
      Set.of("Terminating", "Terminating:Wait", "Terminating:Retained");

  private void lostOnlyWhenGone() {
    for (Timeline.PhaseChange c : t.phases) {
      if (c.phase() == Phase.LOST && NOT_GONE.contains(c.lifecycleState())) {
        add(
            "(f) incarnation %d declared LOST at +%dms while Auto Scaling had the instance in %s",
            c.inc(), c.at(), c.lifecycleState());
      }
    }
  }

  // ---- (g) ----

  private void abandonEndsRetainedOrLost() {
    for (Timeline.Call c : t.calls) {
      if (c.kind() != CallKind.ABANDON || !"ACCEPTED".equals(c.real())) {
        continue;
      }
      // Time to describe the instance a few times (retained: up to the confirmation limit).
      long by =
          c.answeredAt()
              + 4 * (p.maxLatency().toMillis() + RETRY_MS)
              + 10_000
              + (p.groupRetains() ? CONFIRM_LIMIT_MS : 0);
      boolean calm =
          plan.changes().stream()
              .noneMatch(
                  x -> x instanceof Change.Window w && w.at() < by && w.end() > c.answeredAt());
      if (!calm || by > t.end || !t.incarnation(c.inc()).aliveThroughout(c.answeredAt(), by)) {
        continue;
      }
      Phase want = p.groupRetains() ? Phase.RETAINED : Phase.LOST;
      boolean reached =
          t.phases.stream()
              .anyMatch(
                  x ->
                      x.inc() == c.inc()
                          && x.at() <= by
                          && (x.phase() == want || p.groupRetains() && x.phase().terminal()));
      if (!reached) {
        add(
            "(g) ABANDON accepted at +%dms (group retains: %s) but incarnation %d was not %s by"
                + " +%dms",
            c.appliedAt(), p.groupRetains(), c.inc(), want, by);
      }
    }
  }

  // ---- (h) ----

  private void drainedInstanceLetGo() {
    long horizon = p.horizon().toMillis();
    long from = horizon - p.tail().toMillis();
    if (t.end < horizon || t.terminationStart < 0 || t.spotAt >= 0) {
      return;
    }
    Optional<Timeline.Incarnation> inc = t.aliveAt(horizon - 1);
    if (inc.isEmpty() || inc.get().start() > from) {
      return;
    }
    int id = inc.get().id();
    Phase phase = t.phaseAt(id, horizon);
    long activation = t.terminationStart + t.deregistration;
    if (phase.terminal() || activation > from || operator(id, horizon).op() == Op.HOLD) {
      return;
    }
    for (Queues.Parcel q : t.queues.parcels()) {
      if (release.deciding().contains(q.source()) && !q.flush() && q.end() > from) {
        return; // not drained throughout the tail
      }
    }
    boolean retained =
        t.actionEnd.isPresent() && t.actionEnd.get().result().equals("ABANDON") && p.groupRetains();
    if (retained ? t.terminatedAt.isPresent() : t.actionEnd.isPresent()) {
      return; // let go; or the action ended otherwise, which (a), (b) and (f) judge
    }
    boolean asked =
        t.emitted.stream()
            .anyMatch(
                e ->
                    e.inc() == id
                        && e.at() >= from
                        && e.intent() instanceof Intent.Call c
                        && (c.kind() == CallKind.CONTINUE
                            || c.kind() == CallKind.TERMINATE
                            || c.kind() == CallKind.ABANDON));
    if (!asked) {
      add(
          "(h) the queues were empty from +%dms to the end +%dms with the action active (or the"
              + " instance retained) and no hold, but incarnation %d (phase %s) let nothing go",
          from, horizon, id, phase);
    }
  }
}
