package dev.drainguard.queue;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** What the watcher published: one judgement per root, in configuration order. */
record Judgements(List<RootJudgement> roots) {

  Judgements {
    roots = List.copyOf(roots);
  }

  /** Before the first scan: every root in error, so nothing reads as empty. */
  static Judgements unscanned(List<QueueRootSpec> specs) {
    return new Judgements(List.of()).plusUnscanned(specs, "not scanned");
  }

  /**
   * These judgements and, for each root of {@code specs} they do not judge, that root in error
   * "queue root R {@code state}": a root added and not scanned yet is never empty.
   */
  Judgements plusUnscanned(List<QueueRootSpec> specs, String state) {
    List<RootJudgement> all = new ArrayList<>(roots);
    for (QueueRootSpec spec : specs) {
      Path root = spec.root().toAbsolutePath().normalize();
      if (all.stream().noneMatch(j -> j.root().equals(root))) {
        all.add(
            RootJudgement.failed(root, spec.residualBytes(), "queue root " + root + " " + state));
      }
    }
    return all.size() == roots.size() ? this : new Judgements(all);
  }

  /** Every root in error "queue watcher for root R {@code state}", counts dropped. */
  Judgements allFailed(String state) {
    return new Judgements(
        roots.stream()
            .map(
                j ->
                    RootJudgement.failed(
                        j.root(),
                        j.residualBytes(),
                        "queue watcher for root " + j.root() + " " + state))
            .toList());
  }

  /** Whether every root has the same counts and error: what the listener is told about. */
  boolean sameVerdicts(Judgements other) {
    if (roots.size() != other.roots.size()) {
      return false;
    }
    for (int i = 0; i < roots.size(); i++) {
      if (!roots.get(i).sameVerdict(other.roots.get(i))) {
        return false;
      }
    }
    return true;
  }

  /** {@link #sameVerdicts} with bytes compared by bucket ({@link RootJudgement#bucket}). */
  boolean sameBucketedVerdicts(Judgements other) {
    if (roots.size() != other.roots.size()) {
      return false;
    }
    for (int i = 0; i < roots.size(); i++) {
      if (!roots.get(i).sameBucketedVerdict(other.roots.get(i))) {
        return false;
      }
    }
    return true;
  }

  /** The public snapshot, ages measured at {@code now}. */
  QueueSnapshot snapshot(Instant now) {
    List<RootStatus> statuses = new ArrayList<>(roots.size());
    boolean empty = true;
    for (RootJudgement j : roots) {
      statuses.add(j.status(now));
      empty &= j.empty();
    }
    return new QueueSnapshot(now, statuses, empty);
  }
}
