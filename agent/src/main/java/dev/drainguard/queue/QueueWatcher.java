package dev.drainguard.queue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchService;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The filesystem queue probe: watches every queue root with the root's {@link WatchService}
 * (inotify on Linux), keeps per-root counts of the files that count, and publishes a {@link
 * QueueSnapshot} whenever they change.
 *
 * <p>The JDK watcher is not recursive: every directory under a root is registered, and new ones as
 * they appear (listed at once, since their first events may have been missed). Events are applied
 * in batches, at most one per {@link #IN_SERVICE_WINDOW} ({@link #URGENT_WINDOW} once urgent), each
 * touched path stat'ed once per batch. Files are accounted per file (device and inode), so a file
 * with several names (hard links) counts once and a write through any name is seen. An OVERFLOW, a
 * watch key that became invalid, or the periodic reconcile timer causes a full rescan of the root,
 * so a missed event can delay a decision but never make it wrong. A root that is missing, not a
 * directory or unreadable is reported with an error and is never empty; it is re-checked every
 * {@link #HEALTH_CHECK_INTERVAL} and picked up again when it comes back. A root whose directories
 * cannot all be watched (the inotify watch limit) is polled instead: walked every {@link
 * #POLL_INTERVAL}, and watched again once its watches fit.
 *
 * <p>One daemon thread, {@value #THREAD_NAME}, owns all state; {@link #snapshot()} reads the latest
 * published judgement from any thread, and {@link #rescan()} has the thread walk every root now.
 *
 * <p>Every snapshot carries the instant its reading <em>started</em>: a batch of events is stamped
 * with the instant the watcher began to apply it (every event delivered before that instant is in
 * it, and every file was stat'ed after it), a rescan with the instant before its walk.
 */
public final class QueueWatcher implements QueueProbe {

  private static final Logger log = LoggerFactory.getLogger(QueueWatcher.class);

  /**
   * Full rescan period: inotify drops events when its queue overflows without always saying which,
   * so a periodic walk bounds how long any missed change can go unnoticed.
   */
  public static final Duration DEFAULT_RECONCILE_INTERVAL = Duration.ofSeconds(60);

  /**
   * How often a root in error is re-checked (one {@code Files.isDirectory}) and a healthy root's
   * keys are checked for silent cancellation: short, so a recreated root counts again quickly.
   */
  static final Duration HEALTH_CHECK_INTERVAL = Duration.ofSeconds(1);

  /**
   * How often a root that cannot be watched (inotify watch limit reached) is walked in full: its
   * drain is then seen within a second, as with watches, for one walk of the tree per second.
   */
  static final Duration POLL_INTERVAL = Duration.ofSeconds(1);

  /**
   * How often a polled root tries its watches again: each failed try registers up to the limit and
   * lets go, so not every poll; often enough that it is watched again soon after it fits.
   */
  static final Duration WATCH_RETRY_INTERVAL = Duration.ofSeconds(10);

  /**
   * Several roots mean several watch services, which one thread cannot wait on together: the wait
   * on the first is cut to this slice so events on the others are picked up promptly.
   */
  static final Duration MULTI_ROOT_POLL_SLICE = Duration.ofMillis(100);

  /**
   * In service, events are applied at most once per this window (the first after a quiet spell at
   * once): a writer appending thousands of times a second costs five batches a second, and any
   * change, empty to not empty included, is published within the window.
   */
  public static final Duration IN_SERVICE_WINDOW = Duration.ofMillis(200);

  /** The window while {@link #setUrgent urgent}: once termination is noticed, reaction counts. */
  public static final Duration URGENT_WINDOW = Duration.ofMillis(50);

  /**
   * In service, a change of bytes alone smaller than a bucket (12.5 %) is told to the listener at
   * most this late (see {@link Publication}); {@link #snapshot()} has it at once.
   */
  static final Duration BYTES_REFRESH = Duration.ofSeconds(5);

  /** How long {@link #close()} waits for a scan in progress; the thread is a daemon regardless. */
  static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

  /**
   * How long {@link #rescan()} waits for the walk before it answers "unknown": a walk of a large
   * tree takes seconds, a hung filesystem for ever.
   */
  public static final Duration DEFAULT_RESCAN_TIMEOUT = Duration.ofSeconds(30);

  /** How long a test hook waits for the watcher thread to run it. */
  static final Duration TEST_HOOK_TIMEOUT = Duration.ofSeconds(10);

  static final String THREAD_NAME = "drainguard-queue-watcher";

  private final List<QueueRootSpec> specs;
  private final Duration reconcileInterval;
  private final Clock clock;
  private final Publication publication;
  private final WatcherMailbox mailbox = new WatcherMailbox();
  private final CountDownLatch started = new CountDownLatch(1);
  private final List<RootTracker> trackers = new ArrayList<>();
  private WatcherLoop loop;

  private volatile boolean closed;
  private volatile String stoppedBy;
  private volatile Runnable onDeath = () -> {};
  private volatile Thread thread;

  /**
   * @param roots the queue roots; at least one
   * @param reconcileInterval period of the full rescan of every root (see {@link
   *     #DEFAULT_RECONCILE_INTERVAL})
   * @param clock measures file ages and stamps snapshots
   * @param listener called on the watcher thread with the first snapshot, each that changes
   *     emptiness, files, errors or the way of watching, each rescan's, and changes of bytes alone
   *     as {@link Publication} says (in service by 12.5 % buckets or within {@link #BYTES_REFRESH};
   *     every one while {@link #setUrgent urgent}); never for age changes
   * @throws IllegalArgumentException when there is no root, the interval is not positive or an
   *     ignore glob is malformed
   */
  public QueueWatcher(
      List<QueueRootSpec> roots,
      Duration reconcileInterval,
      Clock clock,
      Consumer<QueueSnapshot> listener) {
    this.specs = List.copyOf(roots);
    if (specs.isEmpty()) {
      throw new IllegalArgumentException("at least one queue root is required");
    }
    if (reconcileInterval.isNegative() || reconcileInterval.isZero()) {
      throw new IllegalArgumentException(
          "reconcileInterval must be positive: " + reconcileInterval);
    }
    this.reconcileInterval = reconcileInterval;
    this.clock = Objects.requireNonNull(clock, "clock");
    for (QueueRootSpec spec : specs) {
      new IgnoreRules(spec.root(), spec.ignoreGlobs()); // fail fast on a malformed glob
    }
    this.publication = new Publication(specs, clock, Objects.requireNonNull(listener, "listener"));
  }

  /** With the {@link #DEFAULT_RECONCILE_INTERVAL}. */
  public QueueWatcher(List<QueueRootSpec> roots, Clock clock, Consumer<QueueSnapshot> listener) {
    this(roots, DEFAULT_RECONCILE_INTERVAL, clock, listener);
  }

  /**
   * Opens a watch service per root, starts the watcher thread and returns once the initial scan of
   * every root has been published.
   *
   * @throws UncheckedIOException when a watch service cannot be opened (e.g. the inotify instance
   *     limit is reached)
   * @throws IllegalStateException when called twice or after {@link #close()}
   */
  public void start() {
    synchronized (this) {
      if (thread != null || closed) {
        throw new IllegalStateException("queue watcher already started or closed");
      }
      for (QueueRootSpec spec : specs) {
        try {
          trackers.add(new RootTracker(spec, spec.root().getFileSystem().newWatchService()));
        } catch (IOException e) {
          trackers.forEach(RootTracker::close);
          trackers.clear();
          throw new UncheckedIOException("opening watch service for queue root=" + spec.root(), e);
        }
      }
      loop = new WatcherLoop(trackers, reconcileInterval, mailbox, publication, () -> closed);
      thread = new Thread(this::run, THREAD_NAME);
      thread.setDaemon(true);
      thread.start();
    }
    try {
      started.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The latest published judgement. While the watcher waits for events, what it published is what
   * is on disk now: {@code takenAt} and every {@code oldestAge} are then the clock's instant at
   * this call, so ages keep growing between changes. While it is applying events or walking, {@code
   * takenAt} is the instant that work started, the last instant its judgement is known to hold.
   * Before {@link #start()}, after {@link #close()} and if the watcher thread died, every root
   * reports an error: an unwatched queue is never judged empty.
   */
  @Override
  public QueueSnapshot snapshot() {
    Instant at = publication.heldAt();
    Judgements judgements = publication.published();
    if (closed) {
      judgements = judgements.allFailed("is closed");
    } else if (stoppedBy != null) {
      judgements = judgements.allFailed("stopped: " + stoppedBy);
    }
    return judgements.snapshot(at);
  }

  /**
   * Urgent (once termination is noticed): events are applied within {@link #URGENT_WINDOW} instead
   * of {@link #IN_SERVICE_WINDOW}, and every change of bytes is told to the listener; switching on
   * tells at once what was held back. Callable from any thread.
   */
  public void setUrgent(boolean urgent) {
    if (publication.urgent() != urgent) {
      publication.urgent(urgent);
      mailbox.nudge();
    }
  }

  /** A full rescan bounded by {@link #DEFAULT_RESCAN_TIMEOUT}; see {@link #rescan(Duration)}. */
  public QueueSnapshot rescan() {
    return rescan(DEFAULT_RESCAN_TIMEOUT);
  }

  /**
   * Walks every root in full on the watcher thread, as the periodic reconcile does, and returns the
   * judgement it finds; the snapshot also goes to the listener. Its {@code takenAt} is the instant
   * the walk started, so it sees everything on disk before that instant. Callable from any thread;
   * concurrent callers share a walk that started after they asked.
   *
   * @return the rescan's snapshot; or, when the watcher is not started, closed or stopped, or the
   *     walk did not end within {@code timeout}, a snapshot with every root in error (never empty)
   */
  public QueueSnapshot rescan(Duration timeout) {
    Instant asked = clock.instant();
    if (thread == null) {
      return unknown("is not started", asked);
    }
    if (Thread.currentThread() == thread) {
      return loop.rescan(List.of()); // the listener itself asks: no one else could walk
    }
    CompletableFuture<QueueSnapshot> answer = mailbox.askRescan(why -> unknown(why, asked));
    try {
      return answer.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      return unknown("rescan did not end within " + timeout, asked);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return unknown("rescan interrupted", asked);
    } catch (ExecutionException e) {
      return unknown("rescan failed: " + e.getCause(), asked);
    }
  }

  /** Stops the thread and closes the watch services; idempotent. */
  @Override
  public void close() {
    Thread t;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      t = thread;
      mailbox.down("is closed", why -> unknown(why, clock.instant()));
      // closing the watch services wakes the thread's poll with ClosedWatchServiceException
      trackers.forEach(RootTracker::close);
    }
    if (t != null && t != Thread.currentThread()) {
      try {
        t.join(CLOSE_TIMEOUT.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Test hook: forget the counted files of {@code root}, as if their events had been missed. */
  void forgetFilesForTest(Path root) {
    onWatcherThread(root, RootTracker::forgetFiles);
  }

  /**
   * Test hook: deliver an OVERFLOW event for {@code root}, as inotify does when its queue fills.
   */
  void injectOverflowForTest(Path root) {
    onWatcherThread(root, t -> t.onEvent(t.root(), StandardWatchEventKinds.OVERFLOW, null));
  }

  /** Test hook: inotify refuses {@code root} more than {@code n} watches, as at its limit. */
  void limitWatchesForTest(Path root, int n) {
    onWatcherThread(root, t -> t.limitWatches(n));
  }

  /**
   * Test hook: the events of directory {@code dir} under {@code root} are held back, not applied,
   * until {@link #releaseKeysForTest}; as if the watcher took the other keys first.
   */
  void holdKeysForTest(Path root, Path dir) {
    Path held = dir.toAbsolutePath().normalize();
    onWatcherThread(root, t -> t.holdKeys(held));
  }

  /** Test hook: applies the events {@link #holdKeysForTest} held back, and holds no more. */
  void releaseKeysForTest(Path root) {
    onWatcherThread(root, t -> t.holdKeys(null));
  }

  /** Test hook: {@code action} runs on the watcher thread each time a root starts reading disk. */
  void beforeReadsForTest(Runnable action) {
    mailbox.call(() -> trackers.forEach(t -> t.beforeReads(action)), TEST_HOOK_TIMEOUT);
  }

  /** Test hook: returns once the watcher thread has finished what it was doing. */
  void syncForTest() {
    mailbox.call(() -> {}, TEST_HOOK_TIMEOUT);
  }

  /** The watcher thread; for tests. */
  Thread threadForTest() {
    return thread;
  }

  /** Whether the watcher thread is alive; for tests. */
  boolean running() {
    Thread t = thread;
    return t != null && t.isAlive();
  }

  /** Runs {@code action} on the watcher thread for {@code root}; returns once it ran. */
  private void onWatcherThread(Path root, Consumer<RootTracker> action) {
    Path normalized = root.toAbsolutePath().normalize();
    mailbox.call(
        () -> trackers.stream().filter(t -> t.root().equals(normalized)).forEach(action),
        TEST_HOOK_TIMEOUT);
  }

  private QueueSnapshot unknown(String why, Instant at) {
    return publication.published().allFailed(why).snapshot(at);
  }

  private void run() {
    try {
      if (loop.start()) {
        started.countDown();
        loop.run();
      }
    } catch (RuntimeException | Error e) {
      if (!closed) {
        log.error("queue watcher stopped unexpectedly roots={}", trackers.size(), e);
        stoppedBy = e.toString();
      }
      // Not rethrown: it is logged, the roots read unknown and onDeath ends the agent.
    } finally {
      if (!closed && stoppedBy == null) {
        // The loop returned (interrupt, closed watch service) without being closed: never let
        // the last judgement, perhaps "empty", stand for a watcher that no longer watches.
        log.error("queue watcher thread ended while not closed roots={}", trackers.size());
        stoppedBy = "the watcher thread ended";
      }
      mailbox.down(
          closed ? "is closed" : "stopped: " + stoppedBy, why -> unknown(why, clock.instant()));
      started.countDown();
      if (!closed) {
        onDeath.run();
      }
    }
  }

  /**
   * What to do if the watcher thread ends while the watcher is not closed: the agent exits, so that
   * systemd restarts it with a watcher that watches (the roots read unknown meanwhile).
   */
  public void onDeath(Runnable r) {
    this.onDeath = r;
  }

  /** Test hook: the watcher thread meets {@code e}, as it would a bug. */
  void failForTest(Path root, Error e) {
    onWatcherThread(
        root,
        t -> {
          throw e;
        });
  }
}
