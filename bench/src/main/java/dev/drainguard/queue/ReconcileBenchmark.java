package dev.drainguard.queue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The full reconcile of one queue root holding 100,000 files in 1,000 queue directories: what the
 * periodic rescan, an inotify overflow and the agent's start cost. It is the real {@link
 * RootTracker#reconcile} on the real filesystem with a real inotify watch service: every watch is
 * cancelled and registered again, every directory listed, every entry stat'ed. The page cache is
 * warm after the first iteration, as it is for a periodic rescan.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 10)
@Fork(1)
public class ReconcileBenchmark {

  /** 10 worker processes × 100 queue directories × 100 files. */
  public static final int WORKERS = 10;

  public static final int OUTPUTS_PER_WORKER = 100;
  public static final int FILES_PER_DIR = 100;
  public static final int FILES = WORKERS * OUTPUTS_PER_WORKER * FILES_PER_DIR;

  private RootTracker tracker;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    Path root =
        TreeFixture.tree(
            TreeFixture.workDir(), "reconcile-tree", WORKERS, OUTPUTS_PER_WORKER, FILES_PER_DIR);
    tracker =
        new RootTracker(
            new QueueRootSpec(root, List.of(), 0), root.getFileSystem().newWatchService());
    tracker.reconcile(RootTracker.Reason.START);
    RootJudgement j = tracker.judgement();
    if (j.files() != FILES || j.error().isPresent()) {
      throw new IllegalStateException("the tree under " + root + " is not as built: " + j);
    }
  }

  /** Returns the files counted, so that nothing is optimised away. */
  @Benchmark
  public long fullReconcile() {
    tracker.reconcile(RootTracker.Reason.PERIODIC);
    return tracker.judgement().files();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    tracker.close();
  }
}
