package dev.drainguard.scenario.core;

import dev.drainguard.queue.DrainedWhen;
import dev.drainguard.scenario.core.Timeline.Delivery;
import dev.drainguard.scenario.core.Timeline.Kind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Invariant (a), temporal: whether the queues' TRUE content (the runner's {@link Queues}, never the
 * agent's view) allowed a release — CONTINUE, or a retained instance terminating itself — that an
 * incarnation asked for at {@code T}.
 *
 * <p>Along the check window, every deciding source must hold no more than its allowance (files: the
 * residual bytes; probes: nothing): all deciding sources for {@code drained-when} all or a list of
 * names, at least one at every instant for {@code any}. The window is [T − quiet-period, T]; for an
 * operator's release that was not forced it is T alone (a release skips the quiet period, not the
 * confirmation). Exactly two kinds of queued data are excused, both things no agent can know:
 *
 * <p>A reading "counted" data when it included it and was not empty (a reading within the residual
 * allowance told the agent nothing was queued).
 *
 * <ul>
 *   <li>data that no reading delivered to this incarnation by T had counted (a probe read misses
 *       what comes and goes between two reads; the watcher misses a write through a hard link's
 *       other name; a reading may still be on its way) and that was gone by T;
 *   <li>data still queued at T that no reading delivered by T had counted, before the latest
 *       confirming read of its source started (only that read could tell, and it found the source
 *       within its allowance), and at any time if it appeared after that read started. The
 *       confirming read is a full rescan asked for by the core for files, any read for a probe, and
 *       it must have started at least a quiet period after the last reading that told this
 *       incarnation something was queued (for {@code any}: after its start), or, for an operator's
 *       release, after the release. Writes after it are the one race no reader can close: between
 *       the read that confirms and the call that releases. A core that releases on an old reading,
 *       or without a confirming rescan, gets no excuse.
 * </ul>
 *
 * For {@code any} the window before T is judged on what the readings delivered by each instant had
 * counted (the quiet period applies to the combined verdict as the readings arrive, and one
 * source's data does not restart it while another reads empty), and T itself as above; for {@code
 * all} and names, a reading delivered by T counts for the whole window (data seen is never un-seen,
 * however late the reading came).
 */
final class ReleaseCheck {

  private final Timeline t;
  private final Plan.Params p;
  private final List<String> deciding = new ArrayList<>();
  private final Map<Integer, Map<Integer, Long>> firstShown = new HashMap<>();

  ReleaseCheck(Timeline t, Plan.Params p) {
    this.t = t;
    this.p = p;
    for (String s : p.sources()) {
      if (p.drainedWhen().decides(s)) {
        deciding.add(s);
      }
    }
  }

  List<String> deciding() {
    return deciding;
  }

  private boolean any() {
    return p.drainedWhen().mode() == DrainedWhen.Mode.ANY;
  }

  /** When each parcel was first counted by a reading delivered to {@code inc}. */
  private Map<Integer, Long> shown(int inc) {
    return firstShown.computeIfAbsent(
        inc,
        k -> {
          Map<Integer, Long> m = new HashMap<>();
          for (Delivery d : t.deliveries) {
            if (d.inc() == inc && !d.empty()) { // an empty reading told nothing was queued
              for (int id : d.shown()) {
                m.merge(id, d.deliveredAt(), Math::min);
              }
            }
          }
          return m;
        });
  }

  /**
   * The quiet-period threshold of a confirming read: a quiet period after the last delivery to
   * {@code inc}, by {@code at}, of a reading of a deciding source that was not empty, and after
   * {@code inc} started. For {@code any}, where one source's data does not restart the quiet period
   * while another reads empty, only after the start.
   */
  long quietThreshold(int inc, long at) {
    long x = t.incarnation(inc).start();
    if (!any()) {
      for (Delivery d : t.deliveries) {
        if (d.inc() == inc
            && d.deliveredAt() <= at
            && !d.empty()
            && deciding.contains(d.source())) {
          x = Math.max(x, d.deliveredAt());
        }
      }
    }
    return x + p.quietPeriod().toMillis();
  }

  /** The start of the latest confirming read of {@code source} delivered by T from {@code thr}. */
  private Optional<Long> confirmingRead(int inc, String source, long at, long thr) {
    long best = Long.MIN_VALUE;
    for (Delivery d : t.deliveries) {
      if (d.inc() == inc
          && d.source().equals(source)
          && d.known()
          && d.deliveredAt() <= at
          && d.takenAt() >= thr
          && (!source.equals(Queues.FILES) || d.kind() == Kind.RESCAN)) {
        best = Math.max(best, d.takenAt());
      }
    }
    return best == Long.MIN_VALUE ? Optional.empty() : Optional.of(best);
  }

  /**
   * Why a release at {@code at} by {@code inc} breaks (a) over the quiet period, or over the
   * instant alone after an operator's release at {@code releasedAt} (null for the quiet period);
   * empty when it does not.
   */
  Optional<String> violation(int inc, long at, Long releasedAt) {
    long from = releasedAt == null ? at - p.quietPeriod().toMillis() : at;
    Map<String, Optional<Long>> confirmed = new HashMap<>();
    for (String s : deciding) {
      long thr = releasedAt != null ? releasedAt : quietThreshold(inc, at);
      confirmed.put(s, confirmingRead(inc, s, at, thr));
    }
    TreeSet<Long> instants = new TreeSet<>(List.of(from, at));
    for (Queues.Parcel q : t.queues.parcels()) {
      if (deciding.contains(q.source())) {
        addIn(instants, q.start(), from, at);
        addIn(instants, q.end(), from, at);
      }
    }
    if (any()) {
      for (Delivery d : t.deliveries) {
        if (d.inc() == inc) {
          addIn(instants, d.deliveredAt(), from, at);
        }
      }
    }
    Map<Integer, Long> shown = shown(inc);
    for (long c : instants) {
      List<String> queued = new ArrayList<>();
      for (String s : deciding) {
        long bytes = 0;
        List<Integer> ids = new ArrayList<>();
        for (Queues.Parcel q : t.queues.parcels()) {
          if (!q.source().equals(s) || !q.presentAt(c)) {
            continue;
          }
          long seenAt = shown.getOrDefault(q.id(), Long.MAX_VALUE);
          Optional<Long> read = confirmed.get(s);
          boolean excused;
          if (any() && c < at) {
            excused = seenAt > c; // any: judged on what the readings had said by then
          } else {
            // Never counted by a reading that said queued: gone by T; or, before the confirming
            // read, only that read could tell, and it found its source within the allowance; or
            // written after it started.
            excused =
                seenAt > at
                    && (q.end() <= at
                        || read.isPresent() && (c < read.get() || q.start() > read.get()));
          }
          if (!excused) {
            bytes += q.bytes();
            ids.add(q.id());
          }
        }
        if (bytes > t.queues.residual(s)) {
          queued.add(s + "=" + bytes + "B" + ids);
        }
      }
      boolean broken = any() ? queued.size() == deciding.size() : !queued.isEmpty();
      if (broken) {
        return Optional.of(
            String.format(
                "at +%dms (window from +%dms) queued %s; confirming reads %s",
                c, from, queued, confirmed));
      }
    }
    return Optional.empty();
  }

  private static void addIn(TreeSet<Long> set, long x, long from, long to) {
    if (x > from && x <= to) {
      set.add(x);
    }
  }

  /** Whether the deciding sources' truth holds data by the rule at {@code at}, no excuses. */
  boolean queued(long at) {
    int n = 0;
    for (String s : deciding) {
      if (t.queues.queued(s, at)) {
        n++;
      }
    }
    return any() ? n == deciding.size() : n > 0;
  }
}
