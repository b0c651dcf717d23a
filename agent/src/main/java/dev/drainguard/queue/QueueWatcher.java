package dev.drainguard.queue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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
 * in batches. An OVERFLOW, a watch key that became invalid, or the periodic reconcile timer causes
 * a full rescan of the root, so a missed event can delay a decision but never make it wrong. A root
 * that is missing, not a directory or unreadable is reported with an error and is never empty; it
 * is re-checked every {@link #HEALTH_CHECK_INTERVAL} and picked up again when it comes back. A root
 * whose directories cannot all be watched (the inotify watch limit) is polled instead: walked every
 * {@link #POLL_INTERVAL}, and watched again once its watches fit.
 *
 * <p>One daemon thread, {@value #THREAD_NAME}, owns all state; {@link #snapshot()} reads the latest
 * published judgement from any thread.
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

  /** How long {@link #close()} waits for a scan in progress; the thread is a daemon regardless. */
  static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

  static final String THREAD_NAME = "drainguard-queue-watcher";

  private final List<QueueRootSpec> specs;
  private final Duration reconcileInterval;
  private final Clock clock;
  private final Consumer<QueueSnapshot> listener;
  private final Queue<Runnable> hooks = new ConcurrentLinkedQueue<>();
  private final CountDownLatch started = new CountDownLatch(1);
  private final List<RootTracker> trackers = new ArrayList<>();

  private volatile Judgements published;
  private volatile boolean closed;
  private volatile String stoppedBy;
  private volatile Thread thread;

  /**
   * @param roots the queue roots; at least one
   * @param reconcileInterval period of the full rescan of every root (see {@link
   *     #DEFAULT_RECONCILE_INTERVAL})
   * @param clock measures file ages and stamps snapshots
   * @param listener called on the watcher thread with each snapshot whose judgement (files, bytes,
   *     errors, emptiness) differs from the previous one, including the first; not for age changes
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
    this.listener = Objects.requireNonNull(listener, "listener");
    for (QueueRootSpec spec : specs) {
      new IgnoreRules(spec.root(), spec.ignoreGlobs()); // fail fast on a malformed glob
    }
    this.published = Judgements.unscanned(specs);
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
   * The latest published judgement. {@code takenAt} and every {@code oldestAge} are computed from
   * the clock at the time of this call (the counts are those of the last change the watcher saw),
   * so ages keep growing between changes. Before {@link #start()}, after {@link #close()} and if
   * the watcher thread died, every root reports an error: an unwatched queue is never judged empty.
   */
  @Override
  public QueueSnapshot snapshot() {
    Judgements judgements = published;
    if (closed) {
      judgements = judgements.allFailed("is closed");
    } else if (stoppedBy != null) {
      judgements = judgements.allFailed("stopped: " + stoppedBy);
    }
    return judgements.snapshot(clock.instant());
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

  /** How long {@link #rescan()} waits for the watcher thread to finish a full rescan. */
  static final Duration RESCAN_WAIT = Duration.ofSeconds(30);

  /**
   * A full rescan of every root on the watcher's thread; blocks the caller until it is done. The
   * snapshot's {@code takenAt} is the instant the rescan was asked for, before the walk started. A
   * watcher that is closed, stopped or does not finish in time reports every root in error.
   */
  public QueueSnapshot rescan() {
    java.time.Instant asked = clock.instant();
    java.util.concurrent.CompletableFuture<Judgements> done =
        new java.util.concurrent.CompletableFuture<>();
    hooks.add(
        () -> {
          trackers.forEach(t -> t.reconcile(RootTracker.Reason.RECHECK));
          publish();
          done.complete(new Judgements(trackers.stream().map(RootTracker::judgement).toList()));
        });
    try {
      Judgements j = done.get(RESCAN_WAIT.toMillis(), TimeUnit.MILLISECONDS);
      return (closed ? j.allFailed("is closed") : j).snapshot(asked);
    } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
      return published.allFailed("rescan did not finish: " + e).snapshot(asked);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return published.allFailed("rescan interrupted").snapshot(asked);
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

  /** Whether the watcher thread is alive; for tests. */
  boolean running() {
    Thread t = thread;
    return t != null && t.isAlive();
  }

  private void onWatcherThread(Path root, Consumer<RootTracker> action) {
    Path normalized = root.toAbsolutePath().normalize();
    hooks.add(() -> trackers.stream().filter(t -> t.root().equals(normalized)).forEach(action));
  }

  private void run() {
    try {
      loop();
    } catch (RuntimeException | Error e) {
      if (!closed) {
        log.error("queue watcher stopped unexpectedly roots={}", trackers.size(), e);
        stoppedBy = e.toString();
      }
      if (e instanceof Error error) {
        throw error;
      }
    } finally {
      if (!closed && stoppedBy == null) {
        // The loop returned (interrupt, closed watch service) without being closed: never let
        // the last judgement, perhaps "empty", stand for a watcher that no longer watches.
        log.error("queue watcher thread ended while not closed roots={}", trackers.size());
        stoppedBy = "the watcher thread ended";
      }
      started.countDown();
    }
  }

  private void loop() {
    try {
      trackers.forEach(t -> t.reconcile(RootTracker.Reason.START));
      publish();
    } catch (ClosedWatchServiceException e) {
      return;
    } catch (RuntimeException e) {
      failAll(e);
    }
    started.countDown();
    long nextReconcile = System.nanoTime() + reconcileInterval.toNanos();
    long nextHealthCheck = System.nanoTime() + HEALTH_CHECK_INTERVAL.toNanos();
    long nextPoll = System.nanoTime() + POLL_INTERVAL.toNanos();
    long nextWatchRetry = System.nanoTime() + WATCH_RETRY_INTERVAL.toNanos();
    while (!closed) {
      try {
        takeEvents(
            Math.min(Math.min(nextReconcile, nextHealthCheck), nextPoll) - System.nanoTime());
        runHooks();
        trackers.forEach(RootTracker::settle);
        long now = System.nanoTime();
        if (now - nextHealthCheck >= 0) {
          trackers.forEach(RootTracker::healthCheck);
          nextHealthCheck = now + HEALTH_CHECK_INTERVAL.toNanos();
        }
        if (now - nextPoll >= 0) {
          boolean retry = now - nextWatchRetry >= 0;
          trackers.forEach(t -> t.poll(retry));
          nextPoll = now + POLL_INTERVAL.toNanos();
          nextWatchRetry = retry ? now + WATCH_RETRY_INTERVAL.toNanos() : nextWatchRetry;
        }
        if (now - nextReconcile >= 0) {
          trackers.forEach(t -> t.reconcile(RootTracker.Reason.PERIODIC));
          nextReconcile = now + reconcileInterval.toNanos();
        }
        publish();
      } catch (ClosedWatchServiceException e) {
        break;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (RuntimeException e) {
        failAll(e); // each root is retried by its next health check
        nextHealthCheck = System.nanoTime() + HEALTH_CHECK_INTERVAL.toNanos();
      }
    }
    log.debug("queue watcher stopped roots={}", trackers.size());
  }

  /**
   * Waits up to {@code nanos} for a first event, then takes every key pending on every root. Keys
   * are re-armed only when settled, so this ends even while events keep coming.
   */
  private void takeEvents(long nanos) throws InterruptedException {
    if (trackers.size() > 1) {
      nanos = Math.min(nanos, MULTI_ROOT_POLL_SLICE.toNanos());
    }
    RootTracker first = trackers.get(0);
    WatchKey key = nanos > 0 ? first.watchService().poll(nanos, TimeUnit.NANOSECONDS) : null;
    if (key != null) {
      first.take(key);
    }
    for (RootTracker t : trackers) {
      for (WatchKey k = t.watchService().poll(); k != null; k = t.watchService().poll()) {
        t.take(k);
      }
    }
  }

  private void runHooks() {
    if (!hooks.isEmpty()) {
      for (Runnable hook = hooks.poll(); hook != null; hook = hooks.poll()) {
        hook.run();
      }
      publish(); // before anything repairs it, so tests see what the hook did
    }
  }

  private void failAll(RuntimeException e) {
    if (closed) {
      return;
    }
    log.error("queue watcher iteration failed roots={}", trackers.size(), e);
    for (RootTracker t : trackers) {
      t.fail("queue root " + t.root() + " watch failed: " + e);
    }
    publish();
  }

  private void publish() {
    Judgements previous = published;
    Judgements next = new Judgements(trackers.stream().map(RootTracker::judgement).toList());
    if (next.equals(previous)) {
      return;
    }
    published = next;
    if (!next.sameVerdicts(previous) && !closed) {
      try {
        listener.accept(next.snapshot(clock.instant()));
      } catch (RuntimeException e) {
        log.warn("queue snapshot listener failed roots={}", next.roots().size(), e);
      }
    }
  }
}
