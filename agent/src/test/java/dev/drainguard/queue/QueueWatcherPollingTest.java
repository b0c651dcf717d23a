package dev.drainguard.queue;

import static dev.drainguard.queue.WatcherFixture.awaitTotals;
import static dev.drainguard.queue.WatcherFixture.spec;
import static dev.drainguard.queue.WatcherFixture.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import dev.drainguard.queue.WatcherFixture.Fs;
import java.io.IOException;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A root with more directories than inotify lets the user watch: polled instead (walked every
 * second), judged from its walks, reported as polled, and watched again once it fits. The limit is
 * imposed by a test hook that refuses registrations as inotify does; QueueRootFaultTest runs the
 * real thing in a user namespace with a limit of its own.
 */
class QueueWatcherPollingTest {

  @TempDir Path tmp;
  private final WatcherFixture fx = new WatcherFixture();

  @AfterEach
  void closeFixture() throws Exception {
    fx.close();
  }

  private static RootStatus only(QueueWatcher w) {
    return w.snapshot().roots().get(0);
  }

  @ParameterizedTest
  @EnumSource(Fs.class)
  void watchLimitReached_theRootIsPolled_judgedFromItsWalks_andWatchedAgainOnceItFits(Fs fs)
      throws Exception {
    Path root = fx.base(fs, tmp).resolve("queues");
    for (int i = 0; i < 6; i++) {
      Files.createDirectories(root.resolve("0/out-" + i));
    }
    write(root.resolve("0/out-5/1.pq"), 100);
    QueueWatcher watcher = fx.start(spec(root));
    WatcherHooks.limitWatches(watcher, root, 3);
    WatcherHooks.injectOverflow(watcher, root); // a full rescan, which meets the limit

    await().atMost(WatcherFixture.SETTLE).until(() -> only(watcher).polled().isPresent());
    RootStatus polled = only(watcher);
    assertThat(polled.polled().get())
        .startsWith("User limit of inotify watches reached: walked every 1 s instead")
        .contains("fs.inotify.max_user_watches");
    assertThat(polled.error()).isEmpty();
    assertThat(polled.files()).isEqualTo(1);

    // Changes in directories that have no watch are seen by the next walk.
    Path more = write(root.resolve("0/out-4/2.pq"), 50);
    awaitTotals(watcher, 2, 150);
    Files.delete(more);
    Files.delete(root.resolve("0/out-5/1.pq"));
    awaitTotals(watcher, 0, 0);
    assertThat(watcher.snapshot().empty()).isTrue();

    // Under the limit again: watched within a watch retry interval, and events count again.
    WatcherHooks.limitWatches(watcher, root, Integer.MAX_VALUE);
    await()
        .atMost(WatcherLoop.WATCH_RETRY_INTERVAL.plus(WatcherFixture.SETTLE))
        .until(() -> only(watcher).polled().isEmpty());
    assertThat(fx.seen.get(fx.seen.size() - 1).roots().get(0).polled()).isEmpty();
    write(root.resolve("0/out-1/3.pq"), 7);
    awaitTotals(watcher, 1, 7);
  }

  /**
   * Guards against a walk that races a file moving between directories: it may miss the file, and a
   * polled root must not turn empty on one such walk. The walks are driven by hand here.
   */
  @Test
  void aPolledRootThatHeldData_isEmptyOnlyWhenTwoWalksInARowSaySo() throws IOException {
    try (FileSystem jimfs = Jimfs.newFileSystem(Configuration.unix())) {
      Path root = Files.createDirectories(jimfs.getPath("/q"));
      Files.createDirectories(root.resolve("a/b/c"));
      Path file = write(root.resolve("a/b/c/1.pq"), 10);
      RootTracker tracker = new RootTracker(spec(root), jimfs.newWatchService());
      tracker.limitWatches(1);
      tracker.reconcile(RootTracker.Reason.START);
      assertThat(tracker.polled()).isTrue();
      assertThat(tracker.judgement().files()).isEqualTo(1);

      Files.delete(file);
      tracker.poll(false);
      assertThat(tracker.judgement().empty()).as("after one empty walk").isFalse();
      tracker.poll(false);
      assertThat(tracker.judgement().empty()).as("after two empty walks").isTrue();

      // Data again, then one empty walk followed by a walk that finds data: never empty.
      write(root.resolve("a/2.pq"), 5);
      tracker.poll(false);
      assertThat(tracker.judgement().bytes()).isEqualTo(5);
      Path moved = root.resolve("a/2.pq");
      Files.delete(moved);
      tracker.poll(false);
      assertThat(tracker.judgement().empty()).isFalse();
      write(root.resolve("a/b/2.pq"), 5);
      tracker.poll(false);
      assertThat(tracker.judgement().bytes()).isEqualTo(5);

      // A retry that fits: watched again.
      tracker.limitWatches(Integer.MAX_VALUE);
      tracker.poll(true);
      assertThat(tracker.polled()).isFalse();
      assertThat(tracker.judgement().polled()).isEmpty();
      tracker.close();
    }
  }
}
