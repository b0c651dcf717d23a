package dev.drainguard.queue;

import static dev.drainguard.queue.WatcherFixture.awaitTotals;
import static dev.drainguard.queue.WatcherFixture.settle;
import static dev.drainguard.queue.WatcherFixture.spec;
import static dev.drainguard.queue.WatcherFixture.write;
import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.queue.WatcherFixture.Fs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a change of bytes alone may not hold back (a769577 holds such a change back up to {@link
 * Publication#URGENT_BYTES_REFRESH} while urgent, {@link Publication#BYTES_REFRESH} in service):
 * crossing a root's residual allowance, a change of bucket (the bound on what the listener's
 * figures may be off by: the bytes logged at a deadline, status, metrics), and a drop to zero bytes
 * with the files kept (what tells a completion with nothing queued from one that lost data). Real
 * inotify.
 *
 * <p>Each check is deterministic: the change follows a tell that came a moment before (a change of
 * file count), {@link WatcherHooks#sync} returns once the publish that found it is over, and the
 * listener must have been told then. A machine that stalls for a whole refresh between the two can
 * only make a check pass that should have failed, never the reverse.
 */
class QueueWatcherUrgentTellTest {

  private static final long RESIDUAL = 1000;

  @TempDir Path tmp;
  private final WatcherFixture fx = new WatcherFixture();

  @AfterEach
  void closeFixture() throws Exception {
    fx.close();
  }

  /**
   * Attack: a file kept within the residual allowance (an index, a half-drained segment) grows past
   * it by a few bytes: the file count, the bucket (990 and 1,010 are both in [960, 1,024)) and the
   * error stay, only bytes and emptiness move. Held back as "bytes alone", status would read empty
   * with data queued and the quiet period would run on it.
   */
  @ParameterizedTest(name = "urgent={0}")
  @ValueSource(booleans = {false, true})
  void residualCrossedByBytesAlone_withinOneBucket_isToldAtOnce_bothWays(boolean urgent)
      throws Exception {
    assertThat(RootJudgement.bucket(990)).isEqualTo(RootJudgement.bucket(1010));
    assertThat(RootJudgement.bucket(980)).isEqualTo(RootJudgement.bucket(1010));
    Path root = Files.createDirectories(fx.base(Fs.REAL_INOTIFY, tmp).resolve("queues"));
    write(root.resolve("out1/queue.qi"), 500);
    QueueWatcher watcher = fx.start(new QueueRootSpec(root, List.of(), RESIDUAL));
    watcher.setUrgent(urgent);

    Path data = write(root.resolve("out1/queue.00000001"), 490);
    awaitTold(2, 990);
    assertThat(last().empty()).as("990 bytes within the 1,000 allowed").isTrue();

    append(data, 20); // 1,010 bytes: past the allowance, same files, same bucket
    awaitTotals(watcher, 2, 1010);
    WatcherHooks.sync(watcher);
    assertThat(last().totalBytes()).as("told at once").isEqualTo(1010);
    assertThat(last().empty()).isFalse();

    truncate(data, 480); // 980 bytes: within it again
    awaitTotals(watcher, 2, 980);
    WatcherHooks.sync(watcher);
    assertThat(last().totalBytes()).as("told at once").isEqualTo(980);
    assertThat(last().empty()).isTrue();
  }

  /**
   * Several roots: the allowance is crossed on the second while the first has a change of bytes
   * held back; the tell carries both, the first root's latest bytes included.
   */
  @ParameterizedTest(name = "urgent={0}")
  @ValueSource(booleans = {false, true})
  void residualCrossedOnOneRoot_isToldAtOnce_withTheOtherRootsHeldBackBytes(boolean urgent)
      throws Exception {
    Path base = fx.base(Fs.REAL_INOTIFY, tmp);
    Path busy = Files.createDirectories(base.resolve("busy"));
    Path spool = Files.createDirectories(base.resolve("spool"));
    Path busyFile = write(busy.resolve("out1/current.pq"), 100_000);
    Path index = write(spool.resolve("queue.qi"), 990);
    QueueWatcher watcher = fx.start(spec(busy), new QueueRootSpec(spool, List.of(), RESIDUAL));
    watcher.setUrgent(urgent);

    write(busy.resolve("out1/next.pq"), 0); // a change of files: told at once
    awaitTold(3, 100_990);
    append(busyFile, 100); // bytes alone, within a bucket: held back
    awaitTotals(watcher, 3, 101_090);
    WatcherHooks.sync(watcher);
    long heldBack = last().totalBytes();

    append(index, 20); // the spool's index past its allowance
    awaitTotals(watcher, 3, 101_110);
    WatcherHooks.sync(watcher);
    assertThat(last().roots().get(1).empty(RESIDUAL))
        .as("the spool's crossing told at once (held back before: %d bytes told)", heldBack)
        .isFalse();
    assertThat(last().empty()).isFalse();
    assertThat(last().roots())
        .extracting(RootStatus::bytes)
        .as("each root's latest bytes")
        .containsExactly(100_100L, 1010L);
  }

  /**
   * A change of more than a bucket (12.5 %) is told at once while urgent: what bounds the error of
   * the bytes the decision thread logs at a deadline; and a drop to zero bytes with the file kept
   * (within an allowance, so emptiness does not move) is told exactly, so a completion logs 0 bytes
   * queued (INFO) rather than what a file held before it was truncated (ERROR).
   */
  @ParameterizedTest(name = "urgent={0}")
  @ValueSource(booleans = {false, true})
  void aChangeOfBucket_andADropToZeroBytes_areToldAtOnce(boolean urgent) throws Exception {
    assertThat(RootJudgement.bucket(1000)).isNotEqualTo(RootJudgement.bucket(1200));
    Path root = Files.createDirectories(fx.base(Fs.REAL_INOTIFY, tmp).resolve("queues"));
    Path file = write(root.resolve("out1/current.pq"), 1000);
    QueueWatcher watcher = fx.start(new QueueRootSpec(root, List.of(), 4096));
    watcher.setUrgent(urgent);

    write(root.resolve("out1/next.pq"), 0);
    awaitTold(2, 1000);
    append(file, 200);
    awaitTotals(watcher, 2, 1200);
    WatcherHooks.sync(watcher);
    assertThat(last().totalBytes()).as("a change of bucket, told at once").isEqualTo(1200);

    truncate(file, 0);
    awaitTotals(watcher, 2, 0);
    WatcherHooks.sync(watcher);
    assertThat(last().totalBytes()).as("zero bytes, told at once").isZero();
    assertThat(last().totalFiles()).isEqualTo(2);
    assertThat(last().empty()).isTrue();
  }

  /**
   * Attack (the helper's review of a769577): a change of bytes alone just after a tell, just before
   * the deadline, would reach the decision thread only after the deadline had acted on the bytes
   * before it. From {@link QueueWatcher#tellEveryChangeFrom} on, every change is told at once while
   * urgent (that the same change is held back before it, {@code QueueWatcherLoadTest} shows).
   */
  @Test
  void pastTellEveryChangeFrom_aChangeOfBytesAlone_isToldAtOnce() throws Exception {
    Path root = Files.createDirectories(fx.base(Fs.REAL_INOTIFY, tmp).resolve("queues"));
    Path file = write(root.resolve("out1/current.pq"), 100_000);
    QueueWatcher watcher = fx.start(spec(root));
    watcher.setUrgent(true);
    watcher.tellEveryChangeFrom(fx.clock.instant().plusSeconds(60));

    write(root.resolve("out1/a.pq"), 0); // a change of files: told at once
    awaitTold(2, 100_000);
    append(file, 100); // bytes alone, within a bucket, before the instant: held back
    awaitTotals(watcher, 2, 100_100);
    WatcherHooks.sync(watcher);

    fx.clock.advance(Duration.ofSeconds(60));
    write(root.resolve("out1/b.pq"), 0);
    awaitTold(3, 100_100);
    append(file, 100); // the same, past the instant: told at once
    awaitTotals(watcher, 3, 100_200);
    WatcherHooks.sync(watcher);
    assertThat(last().totalBytes()).as("told at once past the instant").isEqualTo(100_200);
  }

  private void awaitTold(long files, long bytes) {
    settle().until(() -> last().totalFiles() == files && last().totalBytes() == bytes);
  }

  private QueueSnapshot last() {
    return fx.seen.get(fx.seen.size() - 1);
  }

  private static void append(Path file, int bytes) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.APPEND)) {
      ch.write(ByteBuffer.allocate(bytes));
    }
  }

  private static void truncate(Path file, long size) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(size);
    }
  }
}
