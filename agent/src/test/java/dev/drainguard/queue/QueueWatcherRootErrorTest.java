package dev.drainguard.queue;

import static dev.drainguard.queue.WatcherFixture.awaitSnapshot;
import static dev.drainguard.queue.WatcherFixture.awaitTotals;
import static dev.drainguard.queue.WatcherFixture.deleteTree;
import static dev.drainguard.queue.WatcherFixture.spec;
import static dev.drainguard.queue.WatcherFixture.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.drainguard.queue.WatcherFixture.Fs;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A root that cannot be judged is an error, never empty, and is picked up again when it returns.
 */
class QueueWatcherRootErrorTest {

  @TempDir Path tmp;
  private final WatcherFixture fx = new WatcherFixture();

  @AfterEach
  void closeFixture() throws Exception {
    fx.close();
  }

  @ParameterizedTest
  @EnumSource(Fs.class)
  void missingRootAtStart_isErrorAndNotEmpty_untilItIsCreated(Fs fs) throws Exception {
    Path root = fx.base(fs, tmp).resolve("queues");

    QueueWatcher watcher = fx.start(spec(root));

    RootStatus status = watcher.snapshot().roots().get(0);
    assertThat(status.error()).hasValue("queue root " + root + " does not exist");
    assertThat(status.files()).isZero();
    assertThat(watcher.snapshot().empty()).isFalse();

    write(root.resolve("out1/chunk"), 12);
    awaitTotals(watcher, 1, 12);
    assertThat(watcher.snapshot().anyError()).isFalse();
  }

  /**
   * Guards the two ways a watched root disappears: inotify signals the root's key as invalid, Jimfs
   * cancels it silently (caught by the health check). Either way the root must turn into an error,
   * not into "empty", and a recreated root must count again, including files it arrives with.
   */
  @ParameterizedTest
  @EnumSource(Fs.class)
  void rootDeletedWhileWatched_isError_andRecreatedRootIsCountedAgain(Fs fs) throws Exception {
    Path base = fx.base(fs, tmp);
    Path root = base.resolve("queues");
    write(root.resolve("out1/chunk"), 12);
    QueueWatcher watcher = fx.start(spec(root));
    awaitTotals(watcher, 1, 12);

    deleteTree(root);

    awaitSnapshot(watcher, s -> s.anyError());
    assertThat(watcher.snapshot().roots().get(0).error())
        .hasValue("queue root " + root + " does not exist");
    assertThat(watcher.snapshot().empty()).isFalse();

    Path staged = write(base.resolve("staged/out2/chunk"), 30).getParent().getParent();
    write(staged.resolve("out3/chunk"), 4);
    Files.move(staged, root);
    awaitTotals(watcher, 2, 34);
    assertThat(watcher.snapshot().anyError()).isFalse();

    write(root.resolve("out2/next"), 1); // and it is watched again, not just rescanned once
    awaitTotals(watcher, 3, 35);
  }

  @ParameterizedTest
  @EnumSource(Fs.class)
  void rootThatIsAFile_isError(Fs fs) throws Exception {
    Path root = write(fx.base(fs, tmp).resolve("queues"), 3);

    QueueSnapshot s = fx.start(spec(root)).snapshot();

    assertThat(s.roots().get(0).error()).hasValue("queue root " + root + " is not a directory");
    assertThat(s.empty()).isFalse();
    assertThat(s.totalBytes()).isZero();
  }

  /**
   * chmod 000 only denies reads to a user without CAP_DAC_OVERRIDE; as root this test is skipped
   * (visibly), and {@link RootTrackerTest} covers how an AccessDeniedException is reported. To run
   * it as root, drop the capabilities: {@code setpriv --bounding-set -dac_override,-dac_read_search
   * ./mvnw ...}.
   */
  @Test
  void unreadableRoot_isErrorUntilReadableAgain() throws Exception {
    Path root = write(tmp.resolve("queues/out1/chunk"), 5).getParent().getParent();
    Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("---------"));
    try {
      assumeTrue(
          cannotList(root),
          "running with permission to read a mode-000 directory (root?): skipping");

      QueueWatcher watcher = fx.start(spec(root));

      assertThat(watcher.snapshot().roots().get(0).error())
          .hasValueSatisfying(
              e -> assertThat(e).contains("is not readable").contains(root.toString()));
      assertThat(watcher.snapshot().empty()).isFalse();

      Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
      awaitTotals(watcher, 1, 5);
      assertThat(watcher.snapshot().anyError()).isFalse();
    } finally {
      Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
    }
  }

  private static boolean cannotList(Path dir) throws IOException {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      return false;
    } catch (AccessDeniedException e) {
      return true;
    }
  }
}
