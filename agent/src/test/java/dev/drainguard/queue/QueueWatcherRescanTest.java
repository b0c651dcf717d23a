package dev.drainguard.queue;

import static dev.drainguard.queue.WatcherFixture.awaitTotals;
import static dev.drainguard.queue.WatcherFixture.settle;
import static dev.drainguard.queue.WatcherFixture.spec;
import static dev.drainguard.queue.WatcherFixture.write;
import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.queue.WatcherFixture.Fs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link QueueWatcher#rescan()}: the confirmation a release waits for. It must see what the disk
 * holds whatever events were missed, and say when its reading started: before the walk, so that
 * nothing it missed can be older than its stamp.
 */
class QueueWatcherRescanTest {

  private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
  private static final Duration READING = Duration.ofMinutes(1);

  @TempDir Path tmp;
  private final WatcherFixture fx = new WatcherFixture();

  @AfterEach
  void closeFixture() throws Exception {
    fx.close();
  }

  /**
   * The files' events are suppressed (forgotten), so the watcher's own view says empty; the rescan
   * must find them. Every read of the disk moves the clock on by a minute: a stamp taken after the
   * walk would be T0 + 1 min or later.
   */
  @ParameterizedTest
  @EnumSource(Fs.class)
  void rescan_seesWhatMissedEventsHid_andIsStampedBeforeItsWalk(Fs fs) throws Exception {
    Path root = Files.createDirectories(fx.base(fs, tmp).resolve("queues"));
    write(root.resolve("out1/chunk"), 7);
    QueueWatcher watcher = fx.start(spec(root));
    WatcherHooks.forgetFiles(watcher, root);
    awaitTotals(watcher, 0, 0);
    assertThat(watcher.snapshot().empty()).isTrue(); // wrong, as missed events would make it
    fx.clock.set(T0);
    WatcherHooks.beforeReads(watcher, () -> fx.clock.advance(READING));
    int told = fx.seen.size();

    QueueSnapshot s = watcher.rescan();

    assertThat(s.totalFiles()).isEqualTo(1);
    assertThat(s.totalBytes()).isEqualTo(7);
    assertThat(s.empty()).isFalse();
    assertThat(s.takenAt()).isEqualTo(T0);
    assertThat(fx.clock.instant()).isAfterOrEqualTo(T0.plus(READING)); // the walk did read
    assertThat(fx.seen.subList(told, fx.seen.size()))
        .as("the listener is told the rescan's snapshot too")
        .anySatisfy(
            p -> {
              assertThat(p.takenAt()).isEqualTo(T0);
              assertThat(p.totalBytes()).isEqualTo(7);
            });
    assertThat(watcher.snapshot().totalBytes()).isEqualTo(7);
  }

  /** The listener is told a rescan even when nothing changed: it is a reading that is fresh. */
  @Test
  void rescan_withNothingChanged_isToldToTheListenerWithItsStamp() throws Exception {
    Path root = Files.createDirectories(fx.base(Fs.REAL_INOTIFY, tmp).resolve("queues"));
    write(root.resolve("a"), 3);
    QueueWatcher watcher = fx.start(spec(root));
    fx.clock.set(T0);
    int told = fx.seen.size();

    QueueSnapshot s = watcher.rescan();

    assertThat(s.totalBytes()).isEqualTo(3);
    assertThat(fx.seen).hasSize(told + 1);
    assertThat(fx.seen.get(told).takenAt()).isEqualTo(T0);
  }

  /**
   * An ordinary batch of events is stamped with the instant it started being applied, not when it
   * was published: the file is moved in whole (one event, one read), and its read moves the clock.
   */
  @Test
  void publishedSnapshot_isStampedWhenItsBatchStarted_notAfterItsReads() throws Exception {
    Path base = fx.base(Fs.REAL_INOTIFY, tmp);
    Path root = Files.createDirectories(base.resolve("queues"));
    QueueWatcher watcher = fx.start(spec(root));
    Path staged = write(base.resolve("staging/chunk"), 5);
    fx.clock.set(T0);
    WatcherHooks.beforeReads(watcher, () -> fx.clock.advance(READING));

    Files.move(staged, root.resolve("chunk"));

    settle().until(() -> fx.seen.stream().anyMatch(s -> s.totalBytes() == 5));
    QueueSnapshot told = fx.seen.stream().filter(s -> s.totalBytes() == 5).findFirst().get();
    assertThat(told.takenAt()).isEqualTo(T0);
    assertThat(fx.clock.instant()).isAfterOrEqualTo(T0.plus(READING));
  }

  @Test
  void rescan_ofAClosedOrUnstartedWatcher_isUnknownNotEmpty() throws Exception {
    Path root = Files.createDirectories(fx.base(Fs.REAL_INOTIFY, tmp).resolve("queues"));
    QueueWatcher unstarted = new QueueWatcher(List.of(spec(root)), fx.clock, s -> {});
    assertThat(unstarted.rescan().anyError()).isTrue();
    assertThat(unstarted.rescan().empty()).isFalse();

    QueueWatcher watcher = fx.start(spec(root));
    assertThat(watcher.rescan().empty()).isTrue();
    watcher.close();

    QueueSnapshot s = watcher.rescan();
    assertThat(s.empty()).isFalse();
    assertThat(s.roots().get(0).error()).hasValueSatisfying(e -> assertThat(e).contains("closed"));
  }

  /**
   * Callers on several threads at once each get an answer from a walk that started after asking.
   */
  @Test
  void rescan_fromManyThreadsAtOnce_answersEveryCaller() throws Exception {
    Path root = Files.createDirectories(fx.base(Fs.REAL_INOTIFY, tmp).resolve("queues"));
    write(root.resolve("x/y"), 11);
    QueueWatcher watcher = fx.start(spec(root));
    ExecutorService callers = Executors.newFixedThreadPool(8);
    try {
      List<CompletableFuture<QueueSnapshot>> answers = new CopyOnWriteArrayList<>();
      for (int i = 0; i < 40; i++) {
        answers.add(CompletableFuture.supplyAsync(watcher::rescan, callers));
      }
      for (CompletableFuture<QueueSnapshot> a : answers) {
        QueueSnapshot s = a.get(WatcherFixture.SETTLE.toSeconds(), TimeUnit.SECONDS);
        assertThat(s.totalBytes()).isEqualTo(11);
        assertThat(s.anyError()).isFalse();
      }
    } finally {
      callers.shutdownNow();
    }
  }
}
