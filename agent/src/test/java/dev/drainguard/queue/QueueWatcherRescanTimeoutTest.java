package dev.drainguard.queue;

import static dev.drainguard.queue.WatcherFixture.spec;
import static dev.drainguard.queue.WatcherFixture.write;
import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.queue.WatcherFixture.Fs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attack on the confirmation (70fe945 numbers a rescan's answer when asked): a walk that outlasts
 * the rescan's timeout goes on after the caller got its answer. That answer must be unknown, never
 * empty, stamped when it was asked; and a confirmation asked while that walk still runs must not
 * share it (its content would be older than the asking), but get a walk that started after it.
 */
class QueueWatcherRescanTimeoutTest {

  private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");

  @TempDir Path tmp;
  private final WatcherFixture fx = new WatcherFixture();

  @AfterEach
  void closeFixture() throws Exception {
    fx.close();
  }

  @Test
  void aRescanOutlastingItsTimeout_isUnknown_andALaterCallerDoesNotShareTheWalk() throws Exception {
    Path root = Files.createDirectories(fx.base(Fs.REAL_INOTIFY, tmp).resolve("queues"));
    write(root.resolve("out1/chunk"), 7);
    QueueWatcher watcher = fx.start(spec(root));
    WatcherFixture.awaitTotals(watcher, 1, 7);
    fx.clock.set(T0);
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    WatcherHooks.beforeReads(
        watcher,
        () -> {
          entered.countDown();
          try {
            release.await(1, TimeUnit.MINUTES);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });

    QueueSnapshot timedOut = watcher.rescan(Duration.ofMillis(200));
    assertThat(timedOut.empty()).isFalse();
    assertThat(timedOut.anyError()).isTrue();
    assertThat(timedOut.roots().get(0).error())
        .hasValueSatisfying(e -> assertThat(e).contains("did not end within"));
    assertThat(timedOut.takenAt()).isEqualTo(T0);
    assertThat(entered.await(10, TimeUnit.SECONDS)).as("the first walk is under way").isTrue();

    Instant later = T0.plusSeconds(60);
    fx.clock.set(later);
    CompletableFuture<QueueSnapshot> second =
        CompletableFuture.supplyAsync(() -> watcher.rescan(Duration.ofSeconds(20)));
    java.lang.reflect.Field f = QueueWatcher.class.getDeclaredField("mailbox");
    f.setAccessible(true);
    WatcherMailbox mailbox = (WatcherMailbox) f.get(watcher);
    WatcherFixture.settle().until(mailbox::pending); // asked while the first walk is held
    assertThat(entered.getCount()).isZero();
    release.countDown();

    QueueSnapshot s = second.get(30, TimeUnit.SECONDS);
    assertThat(s.anyError()).isFalse();
    assertThat(s.totalBytes()).isEqualTo(7);
    assertThat(s.takenAt())
        .as("a walk started after the second caller asked, not the one under way")
        .isAfterOrEqualTo(later);
  }
}
