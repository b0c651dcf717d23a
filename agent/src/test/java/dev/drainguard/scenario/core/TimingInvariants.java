package dev.drainguard.scenario.core;

import dev.drainguard.drain.DeadlinePolicy;
import dev.drainguard.drain.Intent.CallKind;
import dev.drainguard.drain.Phase;
import dev.drainguard.imds.TargetLifecycleState;
import dev.drainguard.scenario.core.Plan.Change;
import dev.drainguard.scenario.core.Plan.Fault;
import dev.drainguard.scenario.core.Timeline.HookVersion;
import dev.drainguard.sim.ActionEnd;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Invariants (b) and (e), about time and Auto Scaling: the action never times out while data is
 * queued (with exactly the excuses {@link CoreScenariosTest} lists), and the agent's calls keep the
 * fleet's manners. Part of {@link CoreInvariants}, which shares its deadline.
 */
final class TimingInvariants {

  private final Plan plan;
  private final Plan.Params p;
  private final Timeline t;
  private final CoreInvariants core;
  private final ReleaseCheck release;

  TimingInvariants(Plan plan, Timeline t, CoreInvariants core, ReleaseCheck release) {
    this.plan = plan;
    this.p = plan.params();
    this.t = t;
    this.core = core;
    this.release = release;
  }

  void check() {
    noTimeoutWhileQueued();
    fleetManners();
  }

  private void add(String format, Object... args) {
    core.add(format, args);
  }

  private long deadline(int inc, long at) {
    return core.deadline(inc, at);
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
    if (global && at >= core.deadline(inc, at, true)) {
      // Reported: the core counts the global timeout from the arrival of its last poll that was
      // not Terminated; read before the termination began, it may arrive after, and with
      // deadline-margin 0 the deadline falls that poll's latency after Auto Scaling's.
      t.excused.add("(b) global timeout within the last poll's latency before the deadline");
      return;
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
    long slack = Math.max(e, l) + 6 * l + 2 * CoreInvariants.RETRY_MS + 1000;
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

  // ---- (e) ----

  private void fleetManners() {
    long every = Long.MAX_VALUE;
    long slowest = 0;
    for (HookVersion h : t.hooks) {
      every = Math.min(every, p.every(h.heartbeatTimeout()).toMillis());
      slowest =
          Math.max(
              slowest,
              Math.min(
                  CoreInvariants.MAX_NOT_ACTIVE_PAUSE_MS, h.heartbeatTimeout().toMillis() / 3));
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
              ? before.answeredAt() + CoreInvariants.RETRY_MS
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
}
