package dev.drainguard.bench;

import dev.drainguard.queue.QueueRootSpec;
import dev.drainguard.queue.QueueWatcher;
import dev.drainguard.queue.TreeFixture;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

/**
 * Java heap held by the real {@link QueueWatcher} per watched directory and per counted file: the
 * heap in use after a full collection, before and after a watcher has started on a tree of empty
 * queue directories, then on the 100,000-file tree. Run in a JVM of its own (with the launcher's
 * options), so nothing else's garbage is counted; prints {@code key=value} lines.
 *
 * <p>Memory is not a time, so this is not a JMH benchmark. The kernel's side of each inotify watch
 * (about 1 KiB on 64-bit) is not in the heap and not counted here.
 */
public final class WatcherMemory {

  private WatcherMemory() {}

  public static void main(String[] args) throws IOException, InterruptedException {
    Path work = TreeFixture.workDir();
    Path dirs = TreeFixture.tree(work, "memory-dirs", 10, 100, 0);
    Path files = TreeFixture.tree(work, "reconcile-tree", 10, 100, 100);
    long dirCount = countDirs(dirs);

    // load every class a watcher uses before the baseline is taken
    Path small = Files.createDirectories(work.resolve("memory-warm/0/out"));
    watcher(small.getParent().getParent()).close();

    long base = heapAfterGc();
    QueueWatcher onDirs = watcher(dirs);
    long withDirs = heapAfterGc();
    QueueWatcher onFiles = watcher(files);
    long withFiles = heapAfterGc();
    long perDir = (withDirs - base) / dirCount;
    long perFile = (withFiles - withDirs - perDir * countDirs(files)) / 100_000;
    System.out.println("dirs=" + dirCount);
    System.out.println("heapPerDirBytes=" + perDir);
    System.out.println("heapPerFileBytes=" + perFile);
    System.out.println("heapFor100kFilesBytes=" + (withFiles - withDirs));
    onDirs.close();
    onFiles.close();
  }

  private static QueueWatcher watcher(Path root) {
    QueueWatcher w =
        new QueueWatcher(
            List.of(new QueueRootSpec(root, List.of(), 0)), Clock.systemUTC(), s -> {});
    w.start();
    return w;
  }

  private static long countDirs(Path root) throws IOException {
    try (var s = Files.walk(root)) {
      return s.filter(Files::isDirectory).count();
    }
  }

  private static long heapAfterGc() throws InterruptedException {
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
      used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }
    return used;
  }
}
