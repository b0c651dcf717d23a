package dev.drainguard.queue;

import static dev.drainguard.queue.WatcherFixture.awaitSnapshot;
import static dev.drainguard.queue.WatcherFixture.awaitTotals;
import static dev.drainguard.queue.WatcherFixture.settle;
import static dev.drainguard.queue.WatcherFixture.spec;
import static dev.drainguard.queue.WatcherFixture.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drainguard.queue.WatcherFixture.Fs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class QueueWatcherTest {

  @TempDir Path tmp;
  private final WatcherFixture fx = new WatcherFixture();

  @AfterEach
  void closeFixture() throws Exception {
    fx.close();
  }

  @ParameterizedTest
  @EnumSource(Fs.class)
  void start_filesInNestedDirectories_areCountedBeforeStartReturns(Fs fs) throws Exception {
    Path root = fx.base(fs, tmp).resolve("queues");
    write(root.resolve("a.dat"), 10);
    write(root.resolve("out1/b.dat"), 20);
    write(root.resolve("out1/deeper/c.dat"), 30);
    Files.createDirectories(root.resolve("empty/dir"));

    QueueWatcher watcher = fx.start(spec(root));

    QueueSnapshot s = watcher.snapshot(); // no waiting: start() returns after the initial scan
    assertThat(s.totalFiles()).isEqualTo(3);
    assertThat(s.totalBytes()).isEqualTo(60);
    assertThat(s.anyError()).isFalse();
    assertThat(s.empty()).isFalse();
    assertThat(s.roots()).singleElement().extracting(RootStatus::root).isEqualTo(root);
  }

  @ParameterizedTest
  @EnumSource(Fs.class)
  void start_rootWithOnlyEmptyDirectories_isEmpty(Fs fs) throws Exception {
    Path root = Files.createDirectories(fx.base(fs, tmp).resolve("queues/out1/sub"));

    QueueSnapshot s = fx.start(spec(root.getParent().getParent())).snapshot();

    assertThat(s.empty()).isTrue();
    assertThat(s.totalFiles()).isZero();
    assertThat(s.roots().get(0).oldestAge()).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(Fs.class)
  void nestedDirectoriesCreatedAfterStart_areWatchedAndCounted(Fs fs) throws Exception {
    Path base = fx.base(fs, tmp);
    Path root = Files.createDirectories(base.resolve("queues"));
    QueueWatcher watcher = fx.start(spec(root));

    write(root.resolve("a/b/c/file"), 100);
    awaitTotals(watcher, 1, 100);

    // a directory that appears with files already in it (moved in whole) has no events for them:
    // guards against only registering new directories without listing them
    Path staged = write(base.resolve("staging/out2/x/chunk"), 7).getParent().getParent();
    write(staged.resolve("chunk0"), 5);
    Files.move(staged, root.resolve("out2"));
    awaitTotals(watcher, 3, 112);

    // and the directories registered on the way keep reporting
    write(root.resolve("a/b/c/d/e/more"), 8);
    Files.delete(root.resolve("a/b/c/file"));
    awaitTotals(watcher, 3, 20);
  }

  /**
   * Guards the bookkeeping of whole directories: a deleted subtree must drop all its files and
   * watches, and a directory renamed within the root must keep counting under its new name (on
   * inotify a watch left on the old name would report the moved directory's events under the old
   * path).
   */
  @ParameterizedTest
  @EnumSource(Fs.class)
  void directoriesDeletedOrRenamedWhileWatched_areAccountedUnderTheirNewState(Fs fs)
      throws Exception {
    Path root = Files.createDirectories(fx.base(fs, tmp).resolve("queues"));
    write(root.resolve("gone/x/1"), 1);
    write(root.resolve("gone/x/y/2"), 2);
    write(root.resolve("old/z/3"), 4);
    QueueWatcher watcher = fx.start(spec(root));
    awaitTotals(watcher, 3, 7);

    WatcherFixture.deleteTree(root.resolve("gone"));
    awaitTotals(watcher, 1, 4);

    Files.move(root.resolve("old"), root.resolve("new"));
    awaitSnapshot(watcher, s -> s.totalFiles() == 1); // settled on the rename
    write(root.resolve("new/z/4"), 8);
    Files.delete(root.resolve("new/z/3"));
    awaitTotals(watcher, 1, 8);
    write(root.resolve("new/z/5"), 16);
    awaitTotals(watcher, 2, 24);
  }

  /**
   * 10,000 files in one directory produce far more events than one watch key holds (the JDK keeps
   * 512 per key, the kernel queue 16,384), so on inotify this goes through OVERFLOW and reconcile;
   * the totals must still come out exact in both directions.
   */
  @ParameterizedTest
  @EnumSource(Fs.class)
  void burstOfTenThousandFiles_createdThenDeleted_totalsSettleExactly(Fs fs) throws Exception {
    Path root = Files.createDirectories(fx.base(fs, tmp).resolve("queues"));
    QueueWatcher watcher = fx.start(spec(root));
    Path dir = Files.createDirectories(root.resolve("out1"));
    int n = 10_000;
    long bytes = 0;
    for (int i = 0; i < n; i++) {
      write(dir.resolve("chunk-" + i), i % 17);
      bytes += i % 17;
    }

    awaitTotals(watcher, n, bytes);

    for (int i = 0; i < n; i++) {
      Files.delete(dir.resolve("chunk-" + i));
    }
    awaitTotals(watcher, 0, 0);
    assertThat(watcher.snapshot().empty()).isTrue();
  }

  /**
   * Proves the OVERFLOW path deterministically: state that missed events stays wrong (the periodic
   * reconcile is an hour away) until an OVERFLOW arrives, which must rebuild it from the disk.
   */
  @ParameterizedTest
  @EnumSource(Fs.class)
  void overflowEvent_rebuildsStateThatMissedEvents(Fs fs) throws Exception {
    Path root = Files.createDirectories(fx.base(fs, tmp).resolve("queues"));
    write(root.resolve("a"), 1);
    write(root.resolve("sub/b"), 2);
    QueueWatcher watcher = fx.start(spec(root));
    awaitTotals(watcher, 2, 3);

    WatcherHooks.forgetFiles(watcher, root);
    awaitTotals(watcher, 0, 0);
    assertThat(watcher.snapshot().empty()).isTrue(); // wrong, as missed events would make it

    WatcherHooks.injectOverflow(watcher, root);
    awaitTotals(watcher, 2, 3);
  }

  /** Guards the periodic timer: without any event or overflow, the next reconcile repairs state. */
  @ParameterizedTest
  @EnumSource(Fs.class)
  void periodicReconcile_repairsStateThatMissedEvents(Fs fs) throws Exception {
    Path root = Files.createDirectories(fx.base(fs, tmp).resolve("queues"));
    write(root.resolve("sub/b"), 2);
    QueueWatcher watcher = fx.start(Duration.ofMillis(300), spec(root));

    WatcherHooks.forgetFiles(watcher, root);

    settle().until(() -> fx.seen.stream().anyMatch(s -> s.totalFiles() == 0));
    awaitTotals(watcher, 1, 2);
    assertThat(fx.seen.get(fx.seen.size() - 1).totalFiles()).isEqualTo(1);
  }

  @ParameterizedTest
  @EnumSource(Fs.class)
  void ignoreGlobs_matchingFilesNeverCount(Fs fs) throws Exception {
    Path root = Files.createDirectories(fx.base(fs, tmp).resolve("queues"));
    write(root.resolve("writer.lock"), 50);
    write(root.resolve("out1/queue.idx"), 60);
    write(root.resolve("out1/deeper/queue.idx"), 70);
    QueueRootSpec spec = new QueueRootSpec(root, List.of("*.lock", "**/*.idx"), 0);

    QueueWatcher watcher = fx.start(spec);
    assertThat(watcher.snapshot().empty()).isTrue(); // only ignored files

    write(root.resolve("out1/more.idx"), 80); // ignored when it appears too
    write(root.resolve("out1/chunk"), 9);
    awaitTotals(watcher, 1, 9);
    // "**/*.idx" needs a directory part: a top-level index counts (documented glob semantics)
    write(root.resolve("top.idx"), 4);
    awaitTotals(watcher, 2, 13);
  }

  @ParameterizedTest(name = "allowance={0} bytes={1} -> empty={2}")
  @CsvSource({"0, 0, true", "0, 1, false", "100, 100, true", "100, 101, false", "4096, 10, true"})
  void residualAllowance_rootIsEmptyWhileBytesWithinIt(long allowance, int bytes, boolean empty)
      throws Exception {
    Path root = Files.createDirectories(fx.base(Fs.JIMFS_POLLING, tmp).resolve("queues"));
    write(root.resolve("out1/current"), bytes);

    QueueSnapshot s = fx.start(new QueueRootSpec(root, List.of(), allowance)).snapshot();

    assertThat(s.empty()).isEqualTo(empty);
    assertThat(s.totalFiles()).isEqualTo(1);
  }

  @ParameterizedTest
  @EnumSource(Fs.class)
  void residualAllowance_followsLiveWrites(Fs fs) throws Exception {
    // A writer that keeps a small index file after draining (rsyslog's disk queue does):
    // the root must count as empty again once only the allowance is left.
    Path root = Files.createDirectories(fx.base(fs, tmp).resolve("queues"));
    QueueWatcher watcher = fx.start(new QueueRootSpec(root, List.of(), 64));
    write(root.resolve("out1/queue.qi"), 40);
    awaitTotals(watcher, 1, 40);
    assertThat(watcher.snapshot().empty()).isTrue();

    Path data = write(root.resolve("out1/queue.00000001"), 4096);
    awaitTotals(watcher, 2, 4136);
    assertThat(watcher.snapshot().empty()).isFalse();

    Files.delete(data);
    awaitTotals(watcher, 1, 40);
    assertThat(watcher.snapshot().empty()).isTrue();
  }

  @ParameterizedTest
  @EnumSource(Fs.class)
  void symlinks_areNeitherCountedNorFollowed(Fs fs) throws Exception {
    Path base = fx.base(fs, tmp);
    Path root = Files.createDirectories(base.resolve("queues"));
    Path outsideFile = write(base.resolve("outside/big"), 1000);
    Files.createSymbolicLink(root.resolve("link-to-file"), outsideFile);
    Files.createSymbolicLink(root.resolve("link-to-dir"), outsideFile.getParent());

    QueueWatcher watcher = fx.start(spec(root));
    assertThat(watcher.snapshot().empty()).isTrue();

    Files.createSymbolicLink(root.resolve("late-link"), outsideFile);
    write(root.resolve("real"), 3); // once this is seen, the link before it was judged too
    awaitTotals(watcher, 1, 3);
  }

  @Test
  void oldestAge_isMeasuredAgainstTheInjectedClockAtEachCall() throws Exception {
    Path root = Files.createDirectories(fx.base(Fs.JIMFS_POLLING, tmp).resolve("queues"));
    Instant t0 = Instant.parse("2030-01-01T00:00:00Z");
    fx.clock.set(t0);
    setModified(write(root.resolve("old"), 1), t0.minus(Duration.ofMinutes(10)));
    setModified(write(root.resolve("sub/new"), 1), t0.minus(Duration.ofMinutes(1)));

    QueueWatcher watcher = fx.start(spec(root));
    assertThat(watcher.snapshot().roots().get(0).oldestAge()).hasValue(Duration.ofMinutes(10));
    assertThat(watcher.snapshot().takenAt()).isEqualTo(t0);

    fx.clock.advance(Duration.ofMinutes(5));
    assertThat(watcher.snapshot().roots().get(0).oldestAge()).hasValue(Duration.ofMinutes(15));
  }

  @Test
  void oldestAge_fileModifiedInTheFuture_isZeroNotNegative() throws Exception {
    Path root = Files.createDirectories(fx.base(Fs.JIMFS_POLLING, tmp).resolve("queues"));
    Instant t0 = Instant.parse("2030-01-01T00:00:00Z");
    fx.clock.set(t0);
    setModified(write(root.resolve("skewed"), 1), t0.plus(Duration.ofHours(1)));

    QueueWatcher watcher = fx.start(spec(root));

    assertThat(watcher.snapshot().roots().get(0).oldestAge()).hasValue(Duration.ZERO);
  }

  @ParameterizedTest
  @EnumSource(Fs.class)
  void listener_calledOnJudgementChangesOnly_withImmutableSnapshots(Fs fs) throws Exception {
    Path root = Files.createDirectories(fx.base(fs, tmp).resolve("queues"));
    Path file = write(root.resolve("a"), 5);
    QueueWatcher watcher = fx.start(spec(root));
    assertThat(fx.seen).hasSize(1); // the initial judgement
    QueueSnapshot first = fx.seen.get(0);

    write(root.resolve("b"), 6); // may be seen empty first, then written: one or two calls
    settle().until(() -> fx.seen.get(fx.seen.size() - 1).totalBytes() == 11);
    int calls = fx.seen.size();

    // a pure age change (new mtime, same size) is published but is no new judgement
    Instant older = Instant.parse("2001-01-01T00:00:00Z");
    setModified(file, older);
    Duration expectedAge = Duration.between(older, fx.clock.instant());
    awaitSnapshot(watcher, s -> s.roots().get(0).oldestAge().equals(Optional.of(expectedAge)));
    assertThat(fx.seen).hasSize(calls);

    assertThat(first.totalBytes()).isEqualTo(5);
    assertThatThrownBy(() -> first.roots().add(first.roots().get(0)))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void listener_runsOnTheNamedDaemonThread() throws Exception {
    Path root = Files.createDirectories(fx.base(Fs.JIMFS_POLLING, tmp).resolve("queues"));
    AtomicReference<Thread> caller = new AtomicReference<>();
    QueueWatcher watcher =
        new QueueWatcher(
            List.of(spec(root)),
            Duration.ofMinutes(1),
            fx.clock,
            s -> caller.set(Thread.currentThread()));
    try {
      watcher.start();
      assertThat(caller.get().getName()).isEqualTo("drainguard-queue-watcher");
      assertThat(caller.get().isDaemon()).isTrue();
    } finally {
      watcher.close();
    }
  }

  @ParameterizedTest
  @EnumSource(Fs.class)
  void severalRoots_eachJudged_andAnyNonEmptyRootMakesTheSnapshotNotEmpty(Fs fs) throws Exception {
    Path base = fx.base(fs, tmp);
    Path first = Files.createDirectories(base.resolve("q1"));
    Path second = Files.createDirectories(base.resolve("q2"));
    QueueWatcher watcher = fx.start(spec(first), spec(second));
    assertThat(watcher.snapshot().empty()).isTrue();

    write(second.resolve("out/x"), 3); // events on a root other than the first are seen too
    awaitSnapshot(watcher, s -> s.roots().get(1).bytes() == 3);
    assertThat(watcher.snapshot().empty()).isFalse();
    assertThat(watcher.snapshot().roots().get(0).bytes()).isZero();
  }

  @Test
  void close_stopsTheThread_andAClosedWatcherIsNeverEmpty() throws Exception {
    Path root = Files.createDirectories(fx.base(Fs.REAL_INOTIFY, tmp).resolve("queues"));
    QueueWatcher watcher = fx.start(spec(root));
    assertThat(watcher.snapshot().empty()).isTrue();

    watcher.close();

    assertThat(watcher.running()).isFalse();
    assertThat(watcher.snapshot().empty()).isFalse();
    assertThat(watcher.snapshot().roots().get(0).error())
        .hasValueSatisfying(e -> e.contains("closed"));
    watcher.close(); // idempotent
  }

  @Test
  void snapshot_beforeStart_isNotEmpty() {
    QueueWatcher watcher =
        new QueueWatcher(List.of(spec(tmp)), Duration.ofMinutes(1), fx.clock, s -> {});
    assertThat(watcher.snapshot().empty()).isFalse();
    assertThat(watcher.snapshot().anyError()).isTrue();
  }

  @Test
  void constructor_rejectsNoRootsAndMalformedGlobs() {
    assertThatThrownBy(() -> new QueueWatcher(List.of(), fx.clock, s -> {}))
        .isInstanceOf(IllegalArgumentException.class);
    QueueRootSpec bad = new QueueRootSpec(tmp, List.of("out/{a,b"), 0);
    assertThatThrownBy(() -> new QueueWatcher(List.of(bad), fx.clock, s -> {}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("glob=out/{a,b");
  }

  private static void setModified(Path file, Instant when) throws Exception {
    Files.setLastModifiedTime(file, FileTime.from(when));
  }
}
