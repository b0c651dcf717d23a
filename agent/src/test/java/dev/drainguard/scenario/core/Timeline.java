package dev.drainguard.scenario.core;

import dev.drainguard.drain.Intent;
import dev.drainguard.drain.Intent.CallKind;
import dev.drainguard.drain.Phase;
import dev.drainguard.imds.TargetLifecycleState;
import dev.drainguard.sim.ActionEnd;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Everything that happened in one run, as the runner saw it: what each agent incarnation was told
 * and when, what it asked for, what the world did. Times are milliseconds from the start. The
 * invariants judge this record; none of it is the agent's view except what the agent emitted.
 */
final class Timeline {

  /** How a files reading came about. */
  enum Kind {
    /** The watcher published a change it saw. */
    WATCHER,
    /** The watcher's periodic reconcile (a full walk, reported as a plain snapshot). */
    RECONCILE,
    /** A full rescan the core asked for ({@link Intent.Confirm}). */
    RESCAN,
    /** A command or Cribl probe read (scheduled, or asked for by a confirmation). */
    PROBE
  }

  /**
   * One reading that reached an incarnation.
   *
   * @param shown the parcels it counted
   */
  record Delivery(
      int inc,
      String source,
      Kind kind,
      long takenAt,
      long deliveredAt,
      boolean known,
      boolean empty,
      int[] shown) {

    boolean shows(int parcel) {
      for (int id : shown) {
        if (id == parcel) {
          return true;
        }
      }
      return false;
    }
  }

  /** An intent, with the phase before and after the step that emitted it. */
  record Emitted(int inc, long at, Phase before, Phase after, Intent intent) {}

  /** An operator request as the controller answered it. */
  record Operator(int inc, long at, boolean hold, boolean force, boolean accepted, Phase phase) {}

  /**
   * One Auto Scaling call.
   *
   * @param appliedAt when it took effect at AWS; -1 when it never did
   * @param real what Auto Scaling answered (or why the call never reached it)
   * @param told how the core was told it ended
   */
  record Call(
      int inc,
      CallKind kind,
      long sentAt,
      long appliedAt,
      long answeredAt,
      String real,
      String told) {}

  /** A phase an incarnation entered, with Auto Scaling's lifecycle state at that instant. */
  record PhaseChange(int inc, long at, Phase phase, String lifecycleState) {}

  /** One agent process: from its start to its stop (or the end of the run). */
  record Incarnation(int id, long start, long stop) {
    boolean aliveThroughout(long from, long to) {
      return start <= from && stop >= to;
    }
  }

  /** One IMDS poll answer that reached an incarnation; {@code takenAt} is when it was read. */
  record Imds(int inc, long takenAt, long deliveredAt, Optional<TargetLifecycleState> target) {}

  /** The hook's timeouts from {@code at} on. */
  record HookVersion(long at, Duration heartbeatTimeout, Duration globalTimeout) {}

  final List<Delivery> deliveries = new ArrayList<>();
  final List<Emitted> emitted = new ArrayList<>();
  final List<Operator> operator = new ArrayList<>();
  final List<Call> calls = new ArrayList<>();
  final List<PhaseChange> phases = new ArrayList<>();
  final List<Incarnation> incarnations = new ArrayList<>();
  final List<Imds> imds = new ArrayList<>();
  final List<HookVersion> hooks = new ArrayList<>();

  /** What the invariants excused, by kind, for the coverage report. */
  final List<String> excused = new ArrayList<>();

  /** What the runner itself found wrong while running (an invariant checked live, a crash). */
  final List<String> problems = new ArrayList<>();

  /** When Auto Scaling started terminating the instance; -1 if it never did. */
  long terminationStart = -1;

  /** The deregistration delay the termination started with. */
  long deregistration;

  /** When the spot interruption notice appeared; -1 if none. */
  long spotAt = -1;

  Optional<ActionEnd> actionEnd = Optional.empty();

  /** When the instance reached Terminated, if it did. */
  Optional<Long> terminatedAt = Optional.empty();

  long actionEndAt = -1;
  long end;
  long steps;
  final java.util.Map<String, Long> stepKinds = new java.util.TreeMap<>();
  Queues queues;

  Incarnation incarnation(int id) {
    return incarnations.get(id);
  }

  /** The incarnation alive at {@code t}, if any. */
  Optional<Incarnation> aliveAt(long t) {
    return incarnations.stream().filter(i -> i.start() <= t && t < i.stop()).findFirst();
  }

  /** The last phase {@code inc} entered at or before {@code t}. */
  Phase phaseAt(int inc, long t) {
    Phase p = Phase.IN_SERVICE;
    for (PhaseChange c : phases) {
      if (c.inc() == inc && c.at() <= t) {
        p = c.phase();
      }
    }
    return p;
  }
}
