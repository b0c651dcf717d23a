package dev.drainguard.queue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.WatchService;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
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
 * in batches, at most one per {@link WatcherLoop#IN_SERVICE_WINDOW} ({@link
 * WatcherLoop#URGENT_WINDOW} once urgent), each touched path stat'ed once per batch. Files are
 * accounted per file (device and inode), so a file with several names (hard links) counts once and
 * a write through any name is seen. An OVERFLOW, a watch key that became invalid, or the periodic
 * reconcile timer causes a full rescan of the root, so a missed event can delay a decision but
 * never make it wrong. A root that is missing, not a directory or unreadable is reported with an
 * error and is never empty; it is re-checked every {@link WatcherLoop#HEALTH_CHECK_INTERVAL} and
 * picked up again when it comes back. A root whose directories cannot all be watched (the inotify
 * watch limit) is polled instead: walked every {@link WatcherLoop#POLL_INTERVAL}, and watched again
 * once its watches fit.
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
  private final List<RootTracker> trackers = new CopyOnWriteArrayList<>();
  private final AddedRoots added;

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
   *     as {@link Publication} says (in service by 12.5 % buckets or within {@link
   *     Publication#BYTES_REFRESH}, within {@link Publication#URGENT_BYTES_REFRESH} while {@link
   *     #setUrgent urgent}); never for age changes
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
    this.added = new AddedRoots(specs);
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
    Judgements judgements = current();
    if (closed) {
      judgements = judgements.allFailed("is closed");
    } else if (stoppedBy != null) {
      judgements = judgements.allFailed("stopped: " + stoppedBy);
    }
    return judgements.snapshot(at);
  }

  /**
   * Urgent (once termination is noticed): events are applied within {@link
   * WatcherLoop#URGENT_WINDOW} instead of {@link WatcherLoop#IN_SERVICE_WINDOW}, and a change of
   * bytes alone is told to the listener within {@link Publication#URGENT_BYTES_REFRESH} instead of
   * {@link Publication#BYTES_REFRESH}, what was held back when it is switched on included. Callable
   * from any thread.
   */
  public void setUrgent(boolean urgent) {
    if (publication.urgent() != urgent) {
      publication.urgent(urgent);
      mailbox.nudge();
    }
  }

  /**
   * While urgent, from {@code at} on (the approach of a deadline) every change of bytes is told to
   * the listener within the urgent window, as the bytes a deadline policy gives as lost must be
   * those on disk; {@link Instant#MAX}: never. Callable from any thread.
   */
  public void tellEveryChangeFrom(Instant at) {
    publication.exactFrom(at);
  }

  /**
   * Watches the roots of {@code roots} not watched yet, from now on: the watcher thread opens a
   * watch service for each, walks it and publishes what it found (a root whose watch service cannot
   * be opened is published in error and tried again every second). Until its first walk is
   * published, a new root reads "not scanned yet": never empty. A later {@link #rescan()} walks it
   * too. Roots are never removed while running: an orphaned queue may still hold data.
   *
   * <p>Callable from any thread. Returns once the new roots' first walk is published, or after
   * {@link #DEFAULT_RESCAN_TIMEOUT} (the walk goes on; the roots read "not scanned yet" meanwhile);
   * before {@link #start()} at once, the roots then being walked when the thread starts.
   *
   * @return the roots that were not watched (nor asked for) yet, in the order given
   * @throws IllegalArgumentException when an ignore glob is malformed; nothing is added then
   * @throws IllegalStateException when the watcher is closed or stopped
   */
  public List<QueueRootSpec> addRoots(List<QueueRootSpec> roots) {
    List<QueueRootSpec> fresh;
    CompletableFuture<Void> taken;
    synchronized (this) {
      if (closed || stoppedBy != null) {
        throw new IllegalStateException("queue watcher cannot add roots: it is closed or stopped");
      }
      fresh = added.admit(roots);
      if (fresh.isEmpty()) {
        return fresh;
      }
      taken = mailbox.submit(() -> loop.add(fresh, () -> added.taken(fresh)));
    }
    Thread t = thread;
    try {
      if (t != null && t != Thread.currentThread()) {
        taken.get(DEFAULT_RESCAN_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
      }
    } catch (TimeoutException | ExecutionException e) {
      log.warn("queue roots added, first walk not published yet roots={} reason={}", fresh, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return fresh;
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

  /**
   * Runs {@code action} on the watcher thread with its loop and root trackers, and returns once it
   * ran (see the test-side WatcherHooks); a throw there is the watcher thread meeting a bug.
   */
  void onWatcherThreadForTest(BiConsumer<WatcherLoop, List<RootTracker>> action) {
    mailbox.call(() -> action.accept(loop, trackers), TEST_HOOK_TIMEOUT);
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

  private QueueSnapshot unknown(String why, Instant at) {
    return current().allFailed(why).snapshot(at);
  }

  /** What was published, and every root added since as not scanned yet. */
  private Judgements current() {
    return added.over(publication.published());
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
      trackers.forEach(RootTracker::close); // those added while close() was closing the others
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
}
