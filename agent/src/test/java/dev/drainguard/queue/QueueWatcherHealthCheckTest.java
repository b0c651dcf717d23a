package dev.drainguard.queue;

import static dev.drainguard.queue.WatcherFixture.spec;
import static dev.drainguard.queue.WatcherFixture.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The watcher thread of an idle agent wakes every 10 s while its roots are watched and well, and
 * every second while one is in trouble (issue 15: idle CPU), so that a recreated root counts again
 * within a second or so.
 */
class QueueWatcherHealthCheckTest {

  @TempDir Path tmp;
  private final WatcherFixture fx = new WatcherFixture();

  @AfterEach
  void closeFixture() throws Exception {
    fx.close();
  }

  private static Duration interval(QueueWatcher watcher) {
    AtomicReference<Duration> d = new AtomicReference<>();
    watcher.onWatcherThreadForTest((loop, trackers) -> d.set(loop.healthCheckInterval()));
    return d.get();
  }

  @Test
  void aWatchedHealthyRoot_isCheckedEveryTenSeconds_aRootInError_everySecond_untilBack()
      throws Exception {
    Path root = Files.createDirectories(tmp.resolve("queues"));
    write(root.resolve("out1/chunk"), 5);
    QueueWatcher watcher = fx.start(spec(root));
    assertThat(interval(watcher)).isEqualTo(WatcherLoop.HEALTHY_CHECK_INTERVAL);

    Files.delete(root.resolve("out1/chunk"));
    Files.delete(root.resolve("out1"));
    Files.delete(root);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> watcher.snapshot().roots().get(0).error().isPresent());
    assertThat(interval(watcher)).isEqualTo(WatcherLoop.HEALTH_CHECK_INTERVAL);

    write(root.resolve("out2/chunk"), 5);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> watcher.snapshot().roots().get(0).error().isEmpty());
    assertThat(watcher.snapshot().totalBytes()).isEqualTo(5);
    assertThat(interval(watcher)).isEqualTo(WatcherLoop.HEALTHY_CHECK_INTERVAL);
  }
}
