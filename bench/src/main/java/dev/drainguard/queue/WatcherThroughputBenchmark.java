package dev.drainguard.queue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Filesystem events per second through the real {@link QueueWatcher} (inotify): one thread creates
 * {@value #FILES} queue files across {@value #DIRS} directories and waits until the watcher has
 * published them all, then deletes them and waits until it has published zero. One operation is one
 * filesystem event (a create or a delete), counted once the watcher has caught up with it.
 *
 * <p>The writer and the watcher share the machine, so the figure is a lower bound on what the
 * watcher can absorb; {@link #writerAlone} does the same writes in the same layout with no watcher,
 * for comparison. An inotify overflow, if the burst causes one, is handled as in production: by a
 * full rescan.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class WatcherThroughputBenchmark {

  static final int DIRS = 10;
  static final int FILES = 5_000;
  static final int EVENTS = 2 * FILES;

  /** Far beyond any healthy catch-up; reaching it means the watcher lost track, a failure. */
  static final Duration CATCH_UP_LIMIT = Duration.ofSeconds(60);

  private Path root;
  private Path[] files;
  private Path[] unwatched;
  private QueueWatcher watcher;
  private volatile long publishedFiles = -1;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    root = Files.createTempDirectory(TreeFixture.workDir(), "watcher-throughput");
    Path[] dirs = new Path[DIRS];
    for (int d = 0; d < DIRS; d++) {
      dirs[d] = Files.createDirectories(root.resolve("w0").resolve("out-" + d));
    }
    Path other = Files.createTempDirectory(TreeFixture.workDir(), "unwatched");
    Path[] otherDirs = new Path[DIRS];
    for (int d = 0; d < DIRS; d++) {
      otherDirs[d] = Files.createDirectories(other.resolve("w0").resolve("out-" + d));
    }
    files = new Path[FILES];
    unwatched = new Path[FILES];
    for (int i = 0; i < FILES; i++) {
      files[i] = dirs[i % DIRS].resolve(String.format("%010d.pq", i));
      unwatched[i] = otherDirs[i % DIRS].resolve(String.format("%010d.pq", i));
    }
    watcher =
        new QueueWatcher(
            List.of(new QueueRootSpec(root, List.of(), 0)),
            Clock.systemUTC(),
            s -> publishedFiles = s.totalFiles());
    watcher.start();
    awaitPublished(0);
  }

  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public long watched() throws IOException {
    createAll();
    awaitPublished(FILES);
    deleteAll();
    awaitPublished(0);
    return publishedFiles;
  }

  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public int writerAlone() throws IOException {
    for (Path f : unwatched) {
      Files.createFile(f);
    }
    for (Path f : unwatched) {
      Files.delete(f);
    }
    return FILES;
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    watcher.close();
  }

  private void createAll() throws IOException {
    for (Path f : files) {
      Files.createFile(f);
    }
  }

  private void deleteAll() throws IOException {
    for (Path f : files) {
      Files.delete(f);
    }
  }

  private void awaitPublished(long expected) {
    long giveUp = System.nanoTime() + CATCH_UP_LIMIT.toNanos();
    while (publishedFiles != expected) {
      if (System.nanoTime() - giveUp > 0) {
        throw new IllegalStateException(
            "the watcher published " + publishedFiles + " files, not " + expected);
      }
      LockSupport.parkNanos(20_000);
    }
  }
}
