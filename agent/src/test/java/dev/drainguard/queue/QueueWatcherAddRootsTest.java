package dev.drainguard.queue;

import static dev.drainguard.queue.WatcherFixture.awaitSnapshot;
import static dev.drainguard.queue.WatcherFixture.awaitTotals;
import static dev.drainguard.queue.WatcherFixture.spec;
import static dev.drainguard.queue.WatcherFixture.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drainguard.queue.WatcherFixture.Fs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link QueueWatcher#addRoots}: a queue root that appears while the agent runs (a Cribl output
 * deployed with a persistent queue on a new path) is watched from then on, reads "not scanned yet"
 * (never empty) until its first walk is published, and is walked by every later rescan.
 */
class QueueWatcherAddRootsTest {

  @TempDir Path tmp;
  private final WatcherFixture fx = new WatcherFixture();

  @AfterEach
  void closeFixture() throws Exception {
    fx.close();
  }

  private static Optional<RootStatus> rootOf(QueueSnapshot s, Path root) {
    return s.roots().stream().filter(r -> r.root().equals(root)).findFirst();
  }

  @ParameterizedTest
  @EnumSource(Fs.class)
  void aRootAddedWhileRunning_isWalked_andItsLaterWritesAreSeen(Fs fs) throws Exception {
    Path base = fx.base(fs, tmp);
    Path first = Files.createDirectories(base.resolve("state/queues"));
    Path added = base.resolve("pq-volume");
    write(added.resolve("0/syslog/1.pq"), 100);
    QueueWatcher watcher = fx.start(spec(first));
    assertThat(watcher.snapshot().empty()).isTrue();

    List<QueueRootSpec> fresh = watcher.addRoots(List.of(spec(first), spec(added)));

    assertThat(fresh).containsExactly(spec(added));
    QueueSnapshot s = watcher.snapshot(); // addRoots returns once the walk is published
    assertThat(s.roots()).extracting(RootStatus::root).containsExactly(first, added);
    assertThat(rootOf(s, added).orElseThrow().bytes()).isEqualTo(100);
    assertThat(s.empty()).isFalse();
    assertThat(fx.seen.get(fx.seen.size() - 1).totalBytes())
        .as("the listener is told the new root")
        .isEqualTo(100);

    // watched, not just walked once: a new directory and a file in it, written afterwards
    write(added.resolve("1/splunk/2.pq"), 50);
    awaitTotals(watcher, 2, 150);
    Files.delete(added.resolve("0/syslog/1.pq"));
    Files.delete(added.resolve("1/splunk/2.pq"));
    awaitSnapshot(watcher, QueueSnapshot::empty);
  }

  /**
   * The watcher thread is held while it opens the new root: a snapshot taken meanwhile names the
   * root as not scanned yet. Without that, the root would be missing from the snapshot, and an
   * empty other root would make the whole read empty while the new one holds data.
   */
  @Test
  void anAddedRoot_readsNotScannedYet_neverEmpty_untilItsFirstWalkIsPublished() throws Exception {
    Path first = Files.createDirectories(tmp.resolve("state/queues"));
    Path added = tmp.resolve("pq-volume");
    write(added.resolve("0/out/1.pq"), 10);
    QueueWatcher watcher = fx.start(spec(first));
    CountDownLatch opening = new CountDownLatch(1);
    CountDownLatch letGo = new CountDownLatch(1);
    WatcherHooks.openWith(
        watcher,
        spec -> {
          opening.countDown();
          awaitQuietly(letGo);
          return spec.root().getFileSystem().newWatchService();
        });

    CompletableFuture<List<QueueRootSpec>> adding =
        CompletableFuture.supplyAsync(() -> watcher.addRoots(List.of(spec(added))));
    assertThat(opening.await(10, TimeUnit.SECONDS)).isTrue();

    QueueSnapshot during = watcher.snapshot();
    assertThat(rootOf(during, first).orElseThrow().error()).isEmpty();
    assertThat(rootOf(during, added).orElseThrow().error())
        .hasValueSatisfying(e -> assertThat(e).contains(added.toString()).contains("not scanned"));
    assertThat(during.empty()).isFalse();
    assertThat(during.anyError()).isTrue();
    assertThat(watcher.rescan(Duration.ofMillis(50)).empty())
        .as("a rescan that cannot run meanwhile is unknown too")
        .isFalse();
    assertThat(adding).isNotDone();

    letGo.countDown();

    assertThat(adding.get(10, TimeUnit.SECONDS)).containsExactly(spec(added));
    QueueSnapshot after = watcher.snapshot();
    assertThat(rootOf(after, added).orElseThrow().error()).isEmpty();
    assertThat(after.totalBytes()).isEqualTo(10);
    assertThat(fx.seen)
        .as("no snapshot told to the listener names the new root empty before its walk")
        .allSatisfy(
            s ->
                rootOf(s, added)
                    .ifPresent(r -> assertThat(r.error().isPresent() || r.bytes() == 10).isTrue()));
  }

  /**
   * A rescan walks the added root too: the file's events are forgotten, so only a walk finds it.
   */
  @ParameterizedTest
  @EnumSource(Fs.class)
  void rescan_walksAnAddedRoot(Fs fs) throws Exception {
    Path base = fx.base(fs, tmp);
    Path first = Files.createDirectories(base.resolve("state/queues"));
    Path added = Files.createDirectories(base.resolve("pq-volume"));
    QueueWatcher watcher = fx.start(spec(first));
    watcher.addRoots(List.of(spec(added)));
    write(added.resolve("0/out/1.pq"), 7);
    awaitTotals(watcher, 1, 7);
    WatcherHooks.forgetFiles(watcher, added);
    awaitTotals(watcher, 0, 0);
    assertThat(watcher.snapshot().empty()).isTrue(); // wrong, as missed events would make it

    QueueSnapshot s = watcher.rescan();

    assertThat(rootOf(s, added).orElseThrow().bytes()).isEqualTo(7);
    assertThat(s.empty()).isFalse();
  }

  /**
   * Opening the root moves the clock on by a minute, as a slow walk would: the snapshot that tells
   * the new root must carry the instant before, when its reading started.
   */
  @Test
  void anAddedRootsSnapshot_isStampedBeforeItsWalk() throws Exception {
    Path first = Files.createDirectories(tmp.resolve("state/queues"));
    Path added = tmp.resolve("pq-volume");
    write(added.resolve("0/out/1.pq"), 9);
    QueueWatcher watcher = fx.start(spec(first));
    Instant t0 = Instant.parse("2030-01-01T00:00:00Z");
    WatcherHooks.openWith(
        watcher,
        spec -> {
          fx.clock.advance(Duration.ofMinutes(1));
          return spec.root().getFileSystem().newWatchService();
        });
    fx.clock.set(t0);

    watcher.addRoots(List.of(spec(added)));

    QueueSnapshot told = fx.seen.get(fx.seen.size() - 1);
    assertThat(told.totalBytes()).isEqualTo(9);
    assertThat(told.takenAt()).isEqualTo(t0);
  }

  @Test
  void aRootAlreadyWatchedOrAskedFor_isNotAddedAgain() throws Exception {
    Path first = Files.createDirectories(tmp.resolve("state/queues"));
    Path added = Files.createDirectories(tmp.resolve("pq-volume"));
    QueueWatcher watcher = fx.start(spec(first));

    assertThat(watcher.addRoots(List.of(spec(added), spec(added.resolve("."))))).hasSize(1);
    assertThat(watcher.addRoots(List.of(spec(first), spec(added)))).isEmpty();

    assertThat(watcher.snapshot().roots())
        .extracting(RootStatus::root)
        .containsExactly(first, added);
  }

  /**
   * The inotify instance limit: the new root's watch service cannot be opened. It is in error
   * (never empty), and tried again every second until it opens.
   */
  @Test
  void aRootWhoseWatchServiceCannotBeOpened_isInError_untilATryOpensIt() throws Exception {
    Path first = Files.createDirectories(tmp.resolve("state/queues"));
    Path added = tmp.resolve("pq-volume");
    write(added.resolve("0/out/1.pq"), 3);
    QueueWatcher watcher = fx.start(spec(first));
    AtomicBoolean refuse = new AtomicBoolean(true);
    WatcherHooks.openWith(
        watcher,
        spec -> {
          if (refuse.get()) {
            throw new IOException("User limit of inotify instances reached or too many open files");
          }
          return spec.root().getFileSystem().newWatchService();
        });

    assertThat(watcher.addRoots(List.of(spec(added)))).hasSize(1);

    QueueSnapshot refused = watcher.snapshot();
    assertThat(rootOf(refused, added).orElseThrow().error())
        .hasValueSatisfying(e -> assertThat(e).contains("cannot be watched").contains("inotify"));
    assertThat(refused.empty()).isFalse();
    assertThat(fx.seen.get(fx.seen.size() - 1).empty()).isFalse();

    refuse.set(false);

    awaitSnapshot(watcher, s -> !s.anyError() && s.totalBytes() == 3);
    write(added.resolve("0/out/2.pq"), 4);
    awaitTotals(watcher, 2, 7);
  }

  @Test
  void aMalformedGlob_addsNothing() throws Exception {
    Path first = Files.createDirectories(tmp.resolve("state/queues"));
    Path added = Files.createDirectories(tmp.resolve("pq-volume"));
    QueueWatcher watcher = fx.start(spec(first));

    assertThatThrownBy(
            () ->
                watcher.addRoots(
                    List.of(spec(added), new QueueRootSpec(tmp.resolve("x"), List.of("[a"), 0))))
        .isInstanceOf(IllegalArgumentException.class);

    assertThat(watcher.snapshot().roots()).hasSize(1);
    assertThat(watcher.addRoots(List.of(spec(added)))).hasSize(1);
  }

  @Test
  void aRootAddedBeforeStart_isWalkedWhenTheThreadStarts() throws Exception {
    Path first = Files.createDirectories(tmp.resolve("state/queues"));
    Path added = tmp.resolve("pq-volume");
    write(added.resolve("1.pq"), 5);
    QueueWatcher watcher =
        new QueueWatcher(List.of(spec(first)), WatcherFixture.NO_RECONCILE, fx.clock, s -> {});
    try {
      assertThat(watcher.addRoots(List.of(spec(added)))).hasSize(1);
      watcher.start();

      awaitSnapshot(watcher, s -> s.roots().size() == 2 && s.totalBytes() == 5 && !s.anyError());
    } finally {
      watcher.close();
    }
  }

  @Test
  void aClosedWatcher_refusesRoots() throws Exception {
    Path first = Files.createDirectories(tmp.resolve("state/queues"));
    QueueWatcher watcher = fx.start(spec(first));
    watcher.close();

    assertThatThrownBy(() -> watcher.addRoots(List.of(spec(tmp.resolve("pq")))))
        .isInstanceOf(IllegalStateException.class);
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      if (!latch.await(20, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the test did not let the watcher go");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
