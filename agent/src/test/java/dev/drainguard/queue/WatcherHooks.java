package dev.drainguard.queue;

import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.util.function.Consumer;

/**
 * Test hooks of a {@link QueueWatcher}: each runs on the watcher thread and returns once it ran, so
 * the test knows the watcher's state changed before it goes on.
 */
final class WatcherHooks {

  private WatcherHooks() {}

  /** Forget the counted files of {@code root}, as if their events had been missed. */
  static void forgetFiles(QueueWatcher w, Path root) {
    onRoot(w, root, RootTracker::forgetFiles);
  }

  /** Deliver an OVERFLOW event for {@code root}, as inotify does when its queue fills. */
  static void injectOverflow(QueueWatcher w, Path root) {
    onRoot(w, root, t -> t.onEvent(t.root(), StandardWatchEventKinds.OVERFLOW, null));
  }

  /** Inotify refuses {@code root} more than {@code n} watches, as at its limit. */
  static void limitWatches(QueueWatcher w, Path root, int n) {
    onRoot(w, root, t -> t.limitWatches(n));
  }

  /**
   * The events of directory {@code dir} under {@code root} are held back, not applied, until {@link
   * #releaseKeys}; as if the watcher took the other keys first.
   */
  static void holdKeys(QueueWatcher w, Path root, Path dir) {
    Path held = dir.toAbsolutePath().normalize();
    onRoot(w, root, t -> t.holdKeys(held));
  }

  /** Applies the events {@link #holdKeys} held back, and holds no more. */
  static void releaseKeys(QueueWatcher w, Path root) {
    onRoot(w, root, t -> t.holdKeys(null));
  }

  /** {@code action} runs on the watcher thread each time a root starts reading disk. */
  static void beforeReads(QueueWatcher w, Runnable action) {
    w.onWatcherThreadForTest((loop, trackers) -> trackers.forEach(t -> t.beforeReads(action)));
  }

  /** How the watch services of roots added from now on are opened. */
  static void openWith(QueueWatcher w, WatcherLoop.Opener opener) {
    w.onWatcherThreadForTest((loop, trackers) -> loop.opener(opener));
  }

  /** Returns once the watcher thread has finished what it was doing. */
  static void sync(QueueWatcher w) {
    w.onWatcherThreadForTest((loop, trackers) -> {});
  }

  /** The watcher thread meets {@code e} while at {@code root}, as it would a bug. */
  static void fail(QueueWatcher w, Path root, Error e) {
    onRoot(
        w,
        root,
        t -> {
          throw e;
        });
  }

  private static void onRoot(QueueWatcher w, Path root, Consumer<RootTracker> action) {
    Path normalized = root.toAbsolutePath().normalize();
    w.onWatcherThreadForTest(
        (loop, trackers) ->
            trackers.stream().filter(t -> t.root().equals(normalized)).forEach(action));
  }
}
