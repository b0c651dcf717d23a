package dev.drainguard.scenario.core;

import dev.drainguard.drain.DeadlinePolicy;
import dev.drainguard.drain.Intent;
import dev.drainguard.drain.Intent.CallKind;
import dev.drainguard.drain.Phase;
import dev.drainguard.imds.TargetLifecycleState;
import dev.drainguard.scenario.core.Plan.Change;
import dev.drainguard.scenario.core.Plan.Fault;
import dev.drainguard.scenario.core.Timeline.Emitted;
import dev.drainguard.scenario.core.Timeline.HookVersion;
import dev.drainguard.sim.ActionEnd;
import java.time.Duration;
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
    i.noTimeoutWhileQueued();
    i.intentsFitThePhase();
    i.fleetManners();
    i.lostOnlyWhenGone();
    i.abandonEndsRetainedOrLost();
    i.drainedInstanceLetGo();
    return List.copyOf(i.v);
  }

  private void add(String format, Object... args) {
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
      lastNot = i.deliveredAt();
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

  // ---- (b) ----

  private HookVersion hookAt(long at) {
    HookVersion h = t.hooks.get(0);
    for (HookVersion x : t.hooks) {
      if (x.at() <= at) {
        h = x;
      }
    }
    return h;
  }

  private void noTimeoutWhileQueued() {
    Optional<ActionEnd> end = t.actionEnd;
    if (end.isEmpty() || end.get().kind() == ActionEnd.Kind.COMPLETED) {
      return;
    }
    long at = t.actionEndAt;
    boolean global = end.get().kind() == ActionEnd.Kind.GLOBAL_TIMEOUT;
    if (!release.queued(at) || t.spotAt >= 0 && t.spotAt <= at) {
      return; // nothing queued, or a spot interruption that nothing can delay
    }
    long activation = t.terminationStart + t.deregistration;
    Duration ht = hookAt(activation).heartbeatTimeout();
    Optional<Timeline.Incarnation> alive = t.aliveAt(at);
    if (alive.isEmpty() || alive.get().start() > at - ht.toMillis()) {
      return; // no agent, or one restarted within the last HeartbeatTimeout
    }
    int inc = alive.get().id();
    if (at >= deadline(inc, at) && (global || p.policy() == DeadlinePolicy.EXPIRE)) {
      return; // the deadline policy's turn: expire stops heartbeats; the global timeout is due
    }
    if (global && alive.get().start() > t.terminationStart) {
      return; // documented: a restarted agent counts its deadline from its own start
    }
    if (hookLoweredUnseen(inc, activation, at)) {
      t.excused.add("(b) hook lowered while deregistering, after the agent's last read");
      return;
    }
    long blocked = longestBlocked(at - ht.toMillis(), at, activation, inc);
    long e = p.every(ht).toMillis();
    long l = p.maxLatency().toMillis();
    long slack = Math.max(e, l) + 6 * l + 2 * RETRY_MS + 1000;
    if (blocked >= ht.toMillis() - slack) {
      return; // Auto Scaling or IMDS unreachable for about a HeartbeatTimeout
    }
    add(
        "(b) the action ended by %s at +%dms with data queued; incarnation %d (started +%dms) was"
            + " in phase %s; last heartbeat applied %s; HT %ss; longest outage %dms; deadline"
            + " +%dms",
        end.get().kind(),
        at,
        inc,
        alive.get().start(),
        t.phaseAt(inc, at),
        t.calls.stream()
            .filter(c -> c.kind() == CallKind.HEARTBEAT && "ACCEPTED".equals(c.real()))
            .filter(c -> c.appliedAt() <= at)
            .reduce((a, b) -> b)
            .map(c -> "+" + c.appliedAt() + "ms")
            .orElse("none"),
        ht.toSeconds(),
        blocked,
        deadline(inc, at));
  }

  /**
   * Known limitation, reported: PutLifecycleHook lowered the HeartbeatTimeout while the instance
   * deregistered, after {@code inc} last read the hook; the action took the lowered timeout, and no
   * heartbeat was accepted after it became active (the "not active yet" back-off is capped at a
   * third of the timeout the agent knows, so the first heartbeat after activation can come later
   * than the lowered timeout).
   */
  private boolean hookLoweredUnseen(int inc, long activation, long at) {
    long lastRead = -1;
    for (Timeline.Call c : t.calls) {
      if (c.inc() == inc
          && c.kind() == CallKind.DESCRIBE_HOOKS
          && c.real().startsWith("hooks")
          && c.appliedAt() >= 0
          && c.appliedAt() <= activation) {
        lastRead = Math.max(lastRead, c.appliedAt());
      }
    }
    HookVersion inForce = hookAt(activation);
    boolean accepted =
        t.calls.stream()
            .anyMatch(
                c ->
                    c.inc() == inc
                        && c.kind() == CallKind.HEARTBEAT
                        && "ACCEPTED".equals(c.real())
                        && c.appliedAt() >= activation
                        && c.appliedAt() <= at);
    return lastRead >= 0
        && inForce.at() > lastRead
        && inForce.heartbeatTimeout().compareTo(hookAt(lastRead).heartbeatTimeout()) < 0
        && !accepted;
  }

  /**
   * The longest stretch within [from, to] during which no heartbeat could be accepted: Auto Scaling
   * down, heartbeats failing, the "No active Lifecycle Action" blip, or IMDS down before {@code
   * inc} noticed the termination.
   */
  private long longestBlocked(long from, long to, long activation, int inc) {
    List<long[]> spans = new ArrayList<>();
    for (Change c : plan.changes()) {
      if (c instanceof Change.Window w
          && (w.fault() == Fault.API_DOWN
              || w.fault() == Fault.HEARTBEAT_FAILS
              || w.fault() == Fault.IMDS_DOWN && w.at() < noticed(inc))) {
        spans.add(new long[] {w.at(), w.end()});
      }
    }
    long blip = activation + p.blipAfter().toMillis();
    spans.add(new long[] {blip, blip + p.blipLength().toMillis()});
    spans.sort((a, b) -> Long.compare(a[0], b[0]));
    long best = 0;
    long curFrom = Long.MIN_VALUE;
    long curTo = Long.MIN_VALUE;
    for (long[] s : spans) {
      long a = Math.max(s[0], from);
      long b = Math.min(s[1], to);
      if (b <= a) {
        continue;
      }
      if (a <= curTo) {
        curTo = Math.max(curTo, b);
      } else {
        curFrom = a;
        curTo = b;
      }
      best = Math.max(best, curTo - curFrom);
    }
    return best;
  }

  private long noticed(int inc) {
    return t.imds.stream()
        .filter(i -> i.inc() == inc && i.target().orElse(null) == TargetLifecycleState.TERMINATED)
        .mapToLong(Timeline.Imds::deliveredAt)
        .findFirst()
        .orElse(Long.MAX_VALUE);
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

  // ---- (e) ----

  private void fleetManners() {
    long every = Long.MAX_VALUE;
    long slowest = 0;
    for (HookVersion h : t.hooks) {
      every = Math.min(every, p.every(h.heartbeatTimeout()).toMillis());
      slowest =
          Math.max(slowest, Math.min(MAX_NOT_ACTIVE_PAUSE_MS, h.heartbeatTimeout().toMillis() / 3));
    }
    Map<String, Timeline.Call> previous = new HashMap<>();
    Map<Integer, Long> hookReads = new HashMap<>();
    for (Timeline.Call c : t.calls) {
      if (c.kind() == CallKind.DESCRIBE_HOOKS) {
        hookReads.merge(c.inc(), 1L, Long::sum);
      }
      Timeline.Call before = previous.put(c.inc() + ":" + c.kind(), c);
      if (before == null) {
        continue;
      }
      // A "No active" answer in between draws the back-off again, which may be shorter.
      boolean redrawn =
          t.calls.stream()
              .anyMatch(
                  x ->
                      x.inc() == c.inc()
                          && x.told().equals("NO_ACTIVE_ACTION")
                          && x.answeredAt() > before.answeredAt()
                          && x.answeredAt() <= c.sentAt());
      long floor =
          before.told().startsWith("failed") && !redrawn
              ? before.answeredAt() + RETRY_MS
              : c.kind() == CallKind.HEARTBEAT && before.told().equals("ACCEPTED")
                  ? before.sentAt() + every
                  : Long.MIN_VALUE; // "not active yet": a jittered pause, from zero up
      if (floor != Long.MIN_VALUE && c.sentAt() < floor - 1) {
        add(
            "(e) incarnation %d sent %s at +%dms, before +%dms (previous sent +%dms, told %s)",
            c.inc(), c.kind(), c.sentAt(), floor, before.sentAt(), before.told());
      }
    }
    notActiveRetriesInTime(slowest);
    // The hook is read when termination is noticed, when the action becomes active, after each
    // surprising answer (No active Lifecycle Action) and again after a failed read.
    hookReads.forEach(
        (inc, n) -> {
          long budget =
              2
                  + t.calls.stream()
                      .filter(c -> c.inc() == inc)
                      .filter(
                          c ->
                              c.told().equals("NO_ACTIVE_ACTION")
                                  || c.kind() == CallKind.DESCRIBE_HOOKS
                                      && c.told().startsWith("failed"))
                      .count();
          if (n > budget) {
            add(
                "(e) incarnation %d read the hook %d times: more than notice + activation + one per"
                    + " surprising answer or failed read = %d",
                inc, n, budget);
          }
        });
  }

  /**
   * After a heartbeat answered "No active", the next one comes within one back-off step (at most a
   * third of the HeartbeatTimeout, at most 180 s): the first heartbeat after the action becomes
   * active is never later than that (issue 14). Before the deadline: after it, the policy's
   * CONTINUE or ABANDON is what is tried.
   */
  private void notActiveRetriesInTime(long slowest) {
    List<Timeline.Call> beats =
        t.calls.stream().filter(c -> c.kind() == CallKind.HEARTBEAT).toList();
    for (Timeline.Call c : beats) {
      if (!c.told().equals("NO_ACTIVE_ACTION")) {
        continue;
      }
      // Every "No active" (to a heartbeat or a complete) draws the pause again from its answer.
      long by = c.answeredAt() + slowest + 1;
      for (Timeline.Call x : t.calls) {
        if (x.inc() == c.inc()
            && x.told().equals("NO_ACTIVE_ACTION")
            && x.answeredAt() > c.answeredAt()
            && x.answeredAt() < by) {
          by = Math.max(by, x.answeredAt() + slowest + 1);
        }
      }
      long from = c.answeredAt();
      long until = by;
      boolean ended =
          t.phases.stream()
              .anyMatch(
                  x ->
                      x.inc() == c.inc()
                          && x.at() >= from
                          && x.at() <= until
                          && (x.phase().terminal()
                              || x.phase() == Phase.RETAINED
                              || x.phase() == Phase.IN_SERVICE));
      if (until > t.end
          || until >= deadline(c.inc(), until) // past it, completing or abandoning takes over
          || !t.incarnation(c.inc()).aliveThroughout(from, until)
          || ended
          || t.phaseAt(c.inc(), from).terminal()
          || t.phaseAt(c.inc(), from) == Phase.RETAINED) {
        continue;
      }
      boolean next =
          beats.stream()
              .anyMatch(d -> d.inc() == c.inc() && d.sentAt() >= from && d.sentAt() <= until);
      if (!next) {
        add(
            "(e) incarnation %d: heartbeat answered \"No active\" at +%dms, none sent again by"
                + " +%dms (one back-off step)",
            c.inc(), from, until);
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
