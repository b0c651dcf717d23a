package dev.drainguard.queue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The roots a watcher was asked to watch, the configured ones and those added while it runs, and
 * the added ones its thread has not taken in yet: until it has walked them and published the
 * result, they read "not scanned yet", never empty. Callable from any thread.
 */
final class AddedRoots {

  private final Set<Path> known = new HashSet<>();
  private final List<QueueRootSpec> adding = new CopyOnWriteArrayList<>();

  AddedRoots(List<QueueRootSpec> configured) {
    configured.forEach(spec -> known.add(normalized(spec)));
  }

  /**
   * The roots of {@code roots} not asked for before, in the order given; they read "not scanned
   * yet" until {@link #taken}.
   *
   * @throws IllegalArgumentException when an ignore glob is malformed; nothing is admitted then
   */
  synchronized List<QueueRootSpec> admit(List<QueueRootSpec> roots) {
    roots.forEach(spec -> new IgnoreRules(spec.root(), spec.ignoreGlobs()));
    List<QueueRootSpec> fresh = new ArrayList<>();
    for (QueueRootSpec spec : roots) {
      if (known.add(normalized(spec))) {
        fresh.add(spec);
      }
    }
    adding.addAll(fresh);
    return fresh;
  }

  /** The watcher thread has published {@code roots} (walked, or in error): they read as that. */
  void taken(List<QueueRootSpec> roots) {
    adding.removeAll(roots);
  }

  /** {@code published}, and every root admitted and not taken yet as not scanned yet. */
  Judgements over(Judgements published) {
    return published.plusUnscanned(adding, "not scanned yet");
  }

  private static Path normalized(QueueRootSpec spec) {
    return spec.root().toAbsolutePath().normalize();
  }
}
