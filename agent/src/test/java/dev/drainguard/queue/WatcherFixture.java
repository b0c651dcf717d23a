package dev.drainguard.queue;

import static org.awaitility.Awaitility.await;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import com.google.common.jimfs.WatchServiceConfiguration;
import dev.drainguard.testing.MutableClock;
import java.io.IOException;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.awaitility.core.ConditionFactory;

/**
 * Queue roots on the real filesystem (inotify) or on Jimfs (a polling watch service), watchers over
 * them, and the snapshots their listener saw. Closes everything it started.
 */
final class WatcherFixture implements AutoCloseable {

  /** The two watch service implementations the watcher must work with. */
  enum Fs {
    REAL_INOTIFY,
    JIMFS_POLLING
  }

  /** Bound for every wait on the watcher; generous for slow CI, never slept through. */
  static final Duration SETTLE = Duration.ofSeconds(10);

  /** A reconcile interval long enough that no test sees a periodic reconcile by accident. */
  static final Duration NO_RECONCILE = Duration.ofHours(1);

  private static final Configuration JIMFS =
      Configuration.unix().toBuilder()
          .setWatchServiceConfiguration(
              WatchServiceConfiguration.polling(10, TimeUnit.MILLISECONDS))
          .build();

  final MutableClock clock = new MutableClock(Instant.now());
  final List<QueueSnapshot> seen = new CopyOnWriteArrayList<>();

  /**
   * {@link System#nanoTime()} on the watcher thread as it told each of {@link #seen}, same index: a
   * gap between two tells measured by a test thread after it noticed them includes that thread's
   * delays in noticing.
   */
  final List<Long> toldNanos = new CopyOnWriteArrayList<>();

  private final List<AutoCloseable> toClose = new ArrayList<>();

  /** A fresh directory to put roots in: {@code tempDir} itself, or a new Jimfs. */
  Path base(Fs fs, Path tempDir) throws IOException {
    if (fs == Fs.REAL_INOTIFY) {
      return tempDir;
    }
    FileSystem jimfs = Jimfs.newFileSystem(JIMFS);
    toClose.add(jimfs);
    return Files.createDirectories(jimfs.getPath("/data"));
  }

  QueueWatcher start(Duration reconcileInterval, QueueRootSpec... roots) {
    QueueWatcher watcher =
        new QueueWatcher(
            Arrays.asList(roots),
            reconcileInterval,
            clock,
            s -> {
              toldNanos.add(System.nanoTime());
              seen.add(s);
            });
    toClose.add(0, watcher);
    watcher.start();
    return watcher;
  }

  QueueWatcher start(QueueRootSpec... roots) {
    return start(NO_RECONCILE, roots);
  }

  static QueueRootSpec spec(Path root) {
    return new QueueRootSpec(root, List.of(), 0);
  }

  static ConditionFactory settle() {
    return await().atMost(SETTLE).pollInterval(Duration.ofMillis(20));
  }

  /** Waits until the watcher's snapshot satisfies {@code condition}. */
  static void awaitSnapshot(QueueWatcher watcher, Predicate<QueueSnapshot> condition) {
    settle().until(watcher::snapshot, condition);
  }

  static void awaitTotals(QueueWatcher watcher, long files, long bytes) {
    settle().until(watcher::snapshot, s -> s.totalFiles() == files && s.totalBytes() == bytes);
  }

  /** Writes {@code bytes} bytes to {@code file}, creating its parents. */
  static Path write(Path file, int bytes) throws IOException {
    Files.createDirectories(file.getParent());
    return Files.write(file, new byte[bytes]);
  }

  /** Deletes a tree, children first. */
  static void deleteTree(Path top) throws IOException {
    try (var paths = Files.walk(top)) {
      for (Path p : paths.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
        Files.delete(p);
      }
    }
  }

  @Override
  public void close() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
  }
}
