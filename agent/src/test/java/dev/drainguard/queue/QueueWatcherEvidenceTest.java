package dev.drainguard.queue;

import static dev.drainguard.queue.WatcherFixture.awaitSnapshot;
import static dev.drainguard.queue.WatcherFixture.awaitTotals;
import static dev.drainguard.queue.WatcherFixture.spec;
import static dev.drainguard.queue.WatcherFixture.write;
import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.queue.WatcherFixture.Fs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13's reproductions 6 and 8: the watcher's own view must be right after events that inotify
 * reports in a way that is easy to misread, without waiting for the periodic reconcile (an hour
 * away here). Real inotify: both come from how the kernel reports hard links and moved directories.
 */
class QueueWatcherEvidenceTest {

  @TempDir Path tmp;
  private final WatcherFixture fx = new WatcherFixture();

  @AfterEach
  void closeFixture() throws Exception {
    fx.close();
  }

  /**
   * Reproduction 6. inotify reports a write to the name it went through ({@code a/chunk}) and
   * nothing for the file's other name ({@code b/chunk}); the unlink of {@code a/chunk} changes only
   * the link count. A watcher that keeps one size per name read 0 bytes, empty, while {@code
   * b/chunk} held 4096 bytes.
   */
  @Test
  void hardLinkWrittenThroughItsOtherName_thenThatNameDeleted_isCountedAtItsRealSize()
      throws Exception {
    Path root = Files.createDirectories(fx.base(Fs.REAL_INOTIFY, tmp).resolve("queues"));
    Path a = write(root.resolve("a/chunk"), 0);
    Path b = Files.createDirectories(root.resolve("b")).resolve("chunk");
    Files.createLink(b, a);
    QueueWatcher watcher = fx.start(spec(root));
    awaitSnapshot(watcher, s -> s.totalBytes() == 0 && s.totalFiles() >= 1);

    Files.write(a, new byte[4096], StandardOpenOption.APPEND);
    Files.delete(a);

    awaitTotals(watcher, 1, 4096);
    assertThat(watcher.snapshot().empty()).isFalse();
    assertThat(Files.size(b)).isEqualTo(4096);

    Files.delete(b); // and the last name going is seen as empty
    awaitTotals(watcher, 0, 0);
    assertThat(watcher.snapshot().empty()).isTrue();
  }

  /** A file with two names is one file: counted once, at its size, while both names exist. */
  @Test
  void hardLinkedFile_isCountedOnce_andFollowsWritesThroughEitherName() throws Exception {
    Path root = Files.createDirectories(fx.base(Fs.REAL_INOTIFY, tmp).resolve("queues"));
    Path a = write(root.resolve("a/chunk"), 10);
    Path b = Files.createDirectories(root.resolve("b")).resolve("chunk");
    Files.createLink(b, a);
    QueueWatcher watcher = fx.start(spec(root));
    awaitTotals(watcher, 1, 10);

    Files.write(b, new byte[90], StandardOpenOption.APPEND);
    awaitTotals(watcher, 1, 100);
    Files.write(a, new byte[100], StandardOpenOption.APPEND);
    awaitTotals(watcher, 1, 200);
    Files.delete(b);
    awaitTotals(watcher, 1, 200);
    Files.write(a, new byte[1], StandardOpenOption.APPEND);
    awaitTotals(watcher, 1, 201);
  }

  /**
   * Reproduction 8. {@code src/d} moved to {@code dst/d}: inotify queues MOVED_FROM on {@code
   * src}'s key, MOVED_TO on {@code dst}'s key, and {@code d}'s own watch follows the directory.
   * When {@code dst}'s key is taken first, registering {@code dst/d} hands back the watch still
   * recorded for {@code src/d}; a watcher that then kept {@code src/d}'s files counted them twice,
   * and after everything was deleted still read {@code files=1 bytes=1000}, not empty.
   */
  @Test
  void directoryMovedBetweenWatchedDirectories_destinationKeyFirst_leavesNoPhantom()
      throws Exception {
    Path base = fx.base(Fs.REAL_INOTIFY, tmp);
    Path root = Files.createDirectories(base.resolve("queues"));
    Path src = root.resolve("src");
    Path dst = Files.createDirectories(root.resolve("dst"));
    write(src.resolve("d/f"), 1000);
    QueueWatcher watcher = fx.start(spec(root));
    awaitTotals(watcher, 1, 1000);

    WatcherHooks.holdKeys(watcher, root, src);
    Files.move(src.resolve("d"), dst.resolve("d"));
    // a one-byte file moved in after it: seen once dst's MOVED_TO has been applied
    Files.move(write(base.resolve("staging/marker"), 1), dst.resolve("marker"));
    awaitSnapshot(watcher, s -> s.totalBytes() % 1000 == 1);

    assertThat(watcher.snapshot().totalFiles()).isEqualTo(2); // d/f once, and the marker
    assertThat(watcher.snapshot().totalBytes()).isEqualTo(1001);

    WatcherHooks.releaseKeys(watcher, root); // now src's MOVED_FROM
    Files.delete(dst.resolve("d/f"));
    Files.delete(dst.resolve("marker"));
    awaitTotals(watcher, 0, 0);
    assertThat(watcher.snapshot().empty()).isTrue();
  }

  /** The same move with the keys in their natural order, and a subdirectory in the moved tree. */
  @Test
  void directoryTreeMovedBetweenWatchedDirectories_inOrder_isCountedOnceUnderItsNewName()
      throws Exception {
    Path root = Files.createDirectories(fx.base(Fs.REAL_INOTIFY, tmp).resolve("queues"));
    write(root.resolve("src/d/f"), 1000);
    write(root.resolve("src/d/sub/g"), 20);
    Files.createDirectories(root.resolve("dst"));
    QueueWatcher watcher = fx.start(spec(root));
    awaitTotals(watcher, 2, 1020);

    Files.move(root.resolve("src/d"), root.resolve("dst/d"));
    write(root.resolve("dst/d/sub/h"), 3); // the moved subdirectory is watched under its new name
    awaitTotals(watcher, 3, 1023);

    Files.delete(root.resolve("dst/d/sub/g"));
    Files.delete(root.resolve("dst/d/f"));
    awaitTotals(watcher, 1, 3);
  }
}
