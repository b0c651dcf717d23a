package dev.drainguard.scenario;

import dev.drainguard.drain.DrainStatus;
import dev.drainguard.drain.Phase;
import dev.drainguard.scenario.Trace.Incarnation;
import dev.drainguard.scenario.Trace.QueueChange;
import dev.drainguard.sim.ActionEnd;
import dev.drainguard.sim.ApiCall;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The promises of issue 7, judged on a {@link Trace} after the run. Queued bytes are the test's own
 * record of the queues, never the agent's view of them.
 *
 * <ul>
 *   <li>(a) No CONTINUE, no ABANDON that lets the instance go, no
 *       TerminateInstanceInAutoScalingGroup while a root holds more than the residual allowance,
 *       unless deadline-policy complete (or retain in a group that does not retain) reached its
 *       deadline, and said so with the bytes.
 *   <li>(b) When the queues drain while the action is active (or the instance is retained), the
 *       agent ends it within the quiet period + one poll (+ a clock step, + 5 s per injected
 *       failure, + one "not active yet" back-off step when it drained as the action became active).
 *   <li>(c) The action never times out while data is queued and an agent is alive, unless policy
 *       expire stopped heartbeats at its deadline, or (global timeout only) the agent was restarted
 *       after the termination started and so counts its deadline from its own start (documented).
 *   <li>(d) Heartbeat requests per action ≤ ceil(held / interval) + 1 + one per agent start + one
 *       per injected error.
 *   <li>(e) The runner saw nothing go wrong: every agent started, evaluated every clock step, and
 *       saw every queue change.
 * </ul>
 */
final class Invariants {

  static final Set<String> INJECTED = Set.of("Throttling", "InternalFailure", "ServiceUnavailable");

  /** One poll of the action (AWAITING_ACTION retries every 5 s) or of IMDS. */
  static final Duration POLL = Duration.ofSeconds(ScenarioGenerator.CALL_RETRY_S);

  /** The longest "not active yet" pause (net.JitteredBackoff.NOT_ACTIVE_YET's cap). */
  static final Duration NOT_ACTIVE_CAP = Duration.ofSeconds(180);

  /** A clock step at the fine pace, twice: once for the drain, once for the decision. */
  static final Duration STEPS = ScenarioRunner.FINE.multipliedBy(2);

  private final Trace t;
  private final Scenario.Params p;
  private final List<String> violations = new ArrayList<>();

  private Invariants(Trace t) {
    this.t = t;
    this.p = t.scenario().params();
  }

  static List<String> check(Trace t) {
    Invariants i = new Invariants(t);
    i.problems();
    i.noReleaseWhileQueued();
    i.completesAfterDrain();
    i.noTimeoutWhileQueued();
    i.heartbeatBudget();
    return List.copyOf(i.violations);
  }

  // ---- (e) ----

  private void problems() {
    for (String problem : t.problems()) {
      violations.add("(e) " + problem);
    }
  }

  // ---- (a) ----

  private void noReleaseWhileQueued() {
    // The agent counts the global timeout from its last read of a state other than Terminated,
    // which may precede the scale-in by a poll, a step, or an IMDS outage.
    Duration imdsBlind =
        p.imdsPoll()
            .plus(p.coarseStep())
            .plus(
                t.scenario().events().stream()
                    .map(
                        e ->
                            e instanceof Event.ImdsDown d
                                ? d.length()
                                : e instanceof Event.ImdsErrors f
                                    ? p.imdsPoll().multipliedBy(f.count())
                                    : Duration.ZERO)
                    .reduce(Duration.ZERO, Duration::plus));
    Instant earliestDeadline =
        t.scaleInAt()
            .map(s -> s.plus(p.deadlineAfterNotice()).minus(imdsBlind))
            .orElse(Instant.MAX);
    List<ApiCall> calls = t.calls();
    for (int i = 0; i < calls.size(); i++) {
      ApiCall c = calls.get(i);
      String result = c.params().get("LifecycleActionResult");
      boolean cont = ScenarioGenerator.COMPLETE.equals(c.action()) && "CONTINUE".equals(result);
      boolean abandon = ScenarioGenerator.COMPLETE.equals(c.action()) && "ABANDON".equals(result);
      boolean terminate = ScenarioGenerator.TERMINATE.equals(c.action());
      if (!cont && !abandon && !terminate) {
        continue;
      }
      List<Long> bytes = bytesBeforeCall(i);
      if (!queued(bytes)) {
        continue;
      }
      boolean atDeadline = !c.at().isBefore(earliestDeadline);
      if (cont && p.policy().equals("complete") && atDeadline && loggedWithBytes(bytes)) {
        continue; // the policy's documented data loss, logged with the bytes
      }
      if (abandon && p.policy().equals("retain") && atDeadline) {
        // Into retention; or, in a group that does not retain, the loss is learnt (and logged
        // with the bytes) once an ABANDON is accepted. One refused ("No active") lets nothing go:
        // the agent cannot know beforehand whether the group retains (README, known gaps).
        if (p.groupRetains() || !c.succeeded() || loggedWithBytes(bytes)) {
          continue;
        }
      }
      violations.add(
          String.format(
              "(a) %s %s sent at %s while %s bytes were queued (residual allowance %d)%s",
              c.action(),
              terminate ? "" : result,
              t.at(c.at()),
              bytes,
              p.residualBytes(),
              atDeadline ? "" : ", before any deadline"));
    }
  }

  /** An ERROR line for this instance gives exactly the bytes that were queued. */
  private boolean loggedWithBytes(List<Long> bytes) {
    long total = bytes.stream().mapToLong(Long::longValue).sum();
    return t.logs().stream()
        .anyMatch(
            l ->
                l.startsWith("ERROR")
                    && (l.contains("bytesAtRisk=" + total)
                        || l.contains(": " + total + " bytes will be lost")));
  }

  // ---- (b) ----

  private void completesAfterDrain() {
    if (t.actionStart().isEmpty()) {
      return;
    }
    Instant actionStart = t.actionStart().get();
    List<QueueChange> ch = t.changes();
    for (int i = 0; i < ch.size(); i++) {
      if (!queued(ch.get(i).bytes()) && (i == 0 || queued(ch.get(i - 1).bytes()))) {
        Instant drained = ch.get(i).at();
        Instant refilled = t.end();
        for (int j = i + 1; j < ch.size(); j++) {
          if (queued(ch.get(j).bytes())) {
            refilled = ch.get(j).at();
            break;
          }
        }
        checkWindow(drained, refilled, actionStart);
      }
    }
  }

  private void checkWindow(Instant drained, Instant refilled, Instant actionStart) {
    for (Incarnation a : t.agents()) {
      // From when this agent knew of the termination (IMDS may have hidden it for a while).
      Instant noticed =
          a.statuses().stream()
              .map(DrainStatus::noticedAt)
              .flatMap(Optional::stream)
              .findFirst()
              .orElse(a.stop());
      Instant from = latest(latest(drained, a.start(), actionStart), noticed, noticed);
      if (!from.isBefore(a.stop()) || !from.isBefore(refilled)) {
        continue;
      }
      boolean active = activeAt(from);
      boolean retained = retainedAt(from);
      if (!active && !retained) {
        return; // the action ended before (timed out, completed): judged by (a) and (c)
      }
      Optional<DrainStatus> s = a.statusAt(from);
      if (s.isPresent() && Set.of(Phase.EXPIRED, Phase.COMPLETED).contains(s.get().phase())) {
        continue; // the agent already ended it by policy, or by completing
      }
      Duration allowance = p.quietPeriod().plus(POLL).plus(STEPS);
      // "Not active yet" retries back off with jitter, each pause at most min(180 s, HT/3): the
      // first call after the action becomes active may come that long after it (issue 14).
      Duration third = p.heartbeatTimeout().dividedBy(3);
      Duration backoff = third.compareTo(NOT_ACTIVE_CAP) < 0 ? third : NOT_ACTIVE_CAP;
      if (!from.isAfter(actionStart.plus(backoff))) {
        allowance = allowance.plus(backoff);
      }
      Instant quietEnd = from.plus(allowance);
      long injected = injectedBetween(from.minus(POLL), quietEnd.plusSeconds(60));
      // Each failed call costs one retry pause, and the retry lands on the next step.
      Duration retry = p.coarseStep().compareTo(POLL) > 0 ? p.coarseStep() : POLL;
      Instant by = quietEnd.plus(retry.multipliedBy(injected == 0 ? 0 : injected + 1));
      if (by.isAfter(refilled) || by.isAfter(a.stop()) || by.isAfter(t.end())) {
        continue; // not given the time it needs
      }
      if (active) {
        Optional<Instant> deadline =
            a.statuses().stream().map(DrainStatus::deadline).flatMap(Optional::stream).findFirst();
        if (deadline.isPresent() && !deadline.get().isAfter(by)) {
          continue; // the deadline policy may act first
        }
        Optional<ActionEnd> end = t.actionEnd();
        boolean completed =
            end.isPresent()
                && end.get().kind() == ActionEnd.Kind.COMPLETED
                && !end.get().at().isAfter(by);
        if (!completed) {
          violations.add(
              String.format(
                  "(b) the queues were empty from %s and the action active, but it was not"
                      + " completed by %s (quiet %ss): %s; agent phase then %s",
                  t.at(from),
                  t.at(by),
                  p.quietPeriod().toSeconds(),
                  end.map(e -> e.kind() + " " + e.result() + " at " + t.at(e.at()))
                      .orElse("still open"),
                  a.statusAt(by).map(DrainStatus::phase).orElse(null)));
        }
      } else {
        boolean terminated =
            t.calls().stream()
                .anyMatch(
                    c ->
                        ScenarioGenerator.TERMINATE.equals(c.action())
                            && c.succeeded()
                            && !c.at().isAfter(by));
        if (!terminated) {
          violations.add(
              String.format(
                  "(b) the retained instance's queues were empty from %s, but it was not"
                      + " terminated by %s (quiet %ss); agent phase then %s",
                  t.at(from),
                  t.at(by),
                  p.quietPeriod().toSeconds(),
                  a.statusAt(by).map(DrainStatus::phase).orElse(null)));
        }
      }
      return;
    }
  }

  private boolean activeAt(Instant x) {
    return t.actionStart().filter(s -> !s.isAfter(x)).isPresent()
        && t.actionEnd().filter(e -> !e.at().isAfter(x)).isEmpty();
  }

  private boolean retainedAt(Instant x) {
    return t.retainedAt().filter(r -> !r.isAfter(x)).isPresent()
        && t.terminatedAt().filter(e -> !e.isAfter(x)).isEmpty();
  }

  // ---- (c) ----

  private void noTimeoutWhileQueued() {
    Optional<ActionEnd> end = t.actionEnd();
    if (end.isEmpty() || end.get().kind() == ActionEnd.Kind.COMPLETED) {
      return;
    }
    Instant at = end.get().at();
    List<Long> bytes = bytesAt(at);
    if (!queued(bytes)) {
      return;
    }
    Optional<Incarnation> alive =
        t.agents().stream().filter(a -> a.aliveAt(at) && a.start().isBefore(at)).findFirst();
    if (alive.isEmpty()) {
      return; // no agent ran then: down long enough to miss its heartbeats
    }
    Optional<DrainStatus> s = alive.get().statusAt(at);
    Phase phase = s.map(DrainStatus::phase).orElse(null);
    if (phase == Phase.EXPIRED && p.policy().equals("expire")) {
      return; // policy expire stopped heartbeating at the deadline, and said so
    }
    if (end.get().kind() == ActionEnd.Kind.GLOBAL_TIMEOUT
        && t.scaleInAt().filter(si -> si.isBefore(alive.get().start())).isPresent()) {
      return; // documented: a restarted agent counts its deadline from its own start
    }
    if (end.get().kind() == ActionEnd.Kind.GLOBAL_TIMEOUT
        && p.deadlineMargin().isZero()
        && s.flatMap(DrainStatus::deadline).filter(d -> !d.isBefore(at)).isPresent()) {
      return; // deadline-margin 0: the deadline is the global timeout itself, a race (documented)
    }
    violations.add(
        String.format(
            "(c) the action ended by %s (%s) at %s with %s bytes queued while an agent (started %s)"
                + " was alive in phase %s, last heartbeat %s, deadline %s",
            end.get().kind(),
            end.get().result(),
            t.at(at),
            bytes,
            t.at(alive.get().start()),
            phase,
            s.flatMap(DrainStatus::lastHeartbeat).map(t::at).orElse("none"),
            s.flatMap(DrainStatus::deadline).map(t::at).orElse("none")));
  }

  // ---- (d) ----

  private void heartbeatBudget() {
    if (t.actionStart().isEmpty()) {
      return;
    }
    Instant from = t.actionStart().get();
    Instant to = t.actionEnd().map(ActionEnd::at).orElse(t.end());
    long held = Duration.between(from, to).toNanos();
    long every = p.effectiveHeartbeat().toNanos();
    long budget = (held + every - 1) / every + 1;
    long starts =
        t.agents().stream().filter(a -> a.start().isAfter(from) && !a.start().isAfter(to)).count();
    long retries = 0;
    long sent = 0;
    for (ApiCall c : t.calls()) {
      if (!ScenarioGenerator.HEARTBEAT.equals(c.action())
          || c.at().isBefore(from)
          || c.at().isAfter(to)) {
        continue;
      }
      boolean injected = c.errorCode() != null && INJECTED.contains(c.errorCode());
      if (c.succeeded() || injected) {
        sent++;
      }
      if (injected) {
        retries++;
      }
    }
    long allowed = budget + starts + retries;
    if (sent > allowed) {
      violations.add(
          String.format(
              "(d) %d heartbeats in %s of holding at one per %s: more than ceil(held/interval) + 1"
                  + " = %d, + %d agent starts, + %d retries",
              sent, Duration.ofNanos(held), p.effectiveHeartbeat(), budget, starts, retries));
    }
  }

  // ---- the queues, as the test made them ----

  private boolean queued(List<Long> bytes) {
    return bytes.stream().anyMatch(b -> b > p.residualBytes());
  }

  /** The queues as a request with this index found them. */
  private List<Long> bytesBeforeCall(int index) {
    List<Long> found = t.changes().get(0).bytes();
    for (QueueChange c : t.changes()) {
      if (c.callIndex() > index) {
        break;
      }
      found = c.bytes();
    }
    return found;
  }

  /** The queues at {@code at}, counting a change made at that very instant. */
  private List<Long> bytesAt(Instant at) {
    List<Long> found = t.changes().get(0).bytes();
    for (QueueChange c : t.changes()) {
      if (c.at().isAfter(at)) {
        break;
      }
      if (!queued(found) || !c.at().equals(at)) {
        found = c.bytes();
      }
    }
    return found;
  }

  private long injectedBetween(Instant from, Instant to) {
    return t.calls().stream()
        .filter(c -> c.errorCode() != null && INJECTED.contains(c.errorCode()))
        .filter(c -> !c.at().isBefore(from) && !c.at().isAfter(to))
        .count();
  }

  private static Instant latest(Instant a, Instant b, Instant c) {
    Instant m = a.isAfter(b) ? a : b;
    return m.isAfter(c) ? m : c;
  }
}
