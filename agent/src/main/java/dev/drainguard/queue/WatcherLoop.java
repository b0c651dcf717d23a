package dev.drainguard.queue;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Path;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The watcher thread's work: wait for events, apply them in batches, run the timers (health check,
 * polling, periodic reconcile), answer rescans and test hooks, publish. See {@link QueueWatcher}.
 */
final class WatcherLoop {

  private static final Logger log = LoggerFactory.getLogger(WatcherLoop.class);

  /**
   * How often a root in error is re-checked (one {@code Files.isDirectory}), a healthy root's keys
   * are checked for silent cancellation, and a root whose watch service could not be opened is
   * tried again: short, so a recreated root counts again quickly.
   */
  static final Duration HEALTH_CHECK_INTERVAL = Duration.ofSeconds(1);

  /**
   * How often the health check runs while every root is watched and well: only a watch service that
   * cancels a key without signalling it (a polling one, not Linux's inotify, which signals a
   * deleted directory's key) needs it then, and the periodic reconcile and the rescan before every
   * release cover it too. An idle agent's watcher thread then wakes every 10 s, not every second.
   */
  static final Duration HEALTHY_CHECK_INTERVAL = Duration.ofSeconds(10);

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
  static final Duration IN_SERVICE_WINDOW = Duration.ofMillis(200);

  /**
   * The window while {@link QueueWatcher#setUrgent urgent}: once termination is noticed, reaction
   * counts.
   */
  static final Duration URGENT_WINDOW = Duration.ofMillis(50);

  /** Opens a root's watch service; the file system's own, or a test's. */
  interface Opener {
    WatchService open(QueueRootSpec spec) throws IOException;
  }

  /** A root added while running whose watch service could not be opened: in error, retried. */
  private record Unopened(QueueRootSpec spec, String why) {}

  /** Every root's tracker, in configuration order then as added; changed on this thread only. */
  private final List<RootTracker> trackers;

  private final Duration reconcileInterval;
  private final WatcherMailbox mailbox;
  private final Publication publication;
  private final BooleanSupplier closed;
  private final Map<Path, Unopened> unopened = new LinkedHashMap<>();
  private Opener opener = spec -> spec.root().getFileSystem().newWatchService();

  /**
   * @param trackers the roots' trackers, which {@link #add} appends to: a list other threads may
   *     read while it does (such as a copy-on-write list)
   */
  WatcherLoop(
      List<RootTracker> trackers,
      Duration reconcileInterval,
      WatcherMailbox mailbox,
      Publication publication,
      BooleanSupplier closed) {
    this.trackers = trackers;
    this.reconcileInterval = reconcileInterval;
    this.mailbox = mailbox;
    this.publication = publication;
    this.closed = closed;
  }

  /**
   * Every second while a root is in error, polled or not opened; else {@link
   * #HEALTHY_CHECK_INTERVAL}.
   */
  Duration healthCheckInterval() {
    boolean troubled =
        !unopened.isEmpty()
            || trackers.stream().anyMatch(t -> t.polled() || t.judgement().error().isPresent());
    return troubled ? HEALTH_CHECK_INTERVAL : HEALTHY_CHECK_INTERVAL;
  }

  /** The initial scan of every root, published; false when the watch services were closed. */
  boolean start() {
    Instant first = publication.begin();
    try {
      trackers.forEach(t -> t.reconcile(RootTracker.Reason.START));
      publish(first, false);
    } catch (ClosedWatchServiceException e) {
      return false;
    } catch (RuntimeException e) {
      failAll(e, first);
    } finally {
      publication.idle();
    }
    return true;
  }

  /**
   * Runs until closed (the watch services closed) or interrupted.
   *
   * <p>Events are coalesced: the first key after a quiet spell is applied at once; while events
   * keep coming, the keys that arrive are left to accumulate until a window ({@link
   * #IN_SERVICE_WINDOW}, or {@link #URGENT_WINDOW} while urgent) has passed since the last batch,
   * and each touched path is then stat'ed once. So a writer's burst costs one batch per window, and
   * a change is applied within a window of its event.
   */
  void run() {
    long start = System.nanoTime();
    long nextReconcile = start + reconcileInterval.toNanos();
    long nextHealthCheck = start + HEALTH_CHECK_INTERVAL.toNanos();
    long nextPoll = start + POLL_INTERVAL.toNanos();
    long nextWatchRetry = start + WATCH_RETRY_INTERVAL.toNanos();
    long lastBatch = start - IN_SERVICE_WINDOW.toNanos();
    while (!closed.getAsBoolean()) {
      Instant batch = null;
      try {
        boolean anyPolled = trackers.stream().anyMatch(RootTracker::polled);
        long timers =
            Math.min(
                Math.min(nextReconcile, nextHealthCheck),
                Math.min(anyPolled ? nextPoll : Long.MAX_VALUE, publication.tellDue()));
        long windowEnd = lastBatch + windowNanos();
        arrive((anyArrived() ? Math.min(timers, windowEnd) : timers) - System.nanoTime());
        long now = System.nanoTime();
        boolean events = anyArrived();
        if (events) {
          publication.pending();
        }
        if (!(events && now - windowEnd >= 0) && !mailbox.pending() && now - timers < 0) {
          continue; // the window is still open: let its keys gather more events
        }
        batch = publication.begin();
        lastBatch = now;
        trackers.forEach(RootTracker::takeArrived);
        if (mailbox.runCalls()) {
          publish(batch, false); // before anything repairs it, so tests see what the hook did
        }
        trackers.forEach(RootTracker::settle);
        if (now - nextHealthCheck >= 0) {
          trackers.forEach(RootTracker::healthCheck);
          List.copyOf(unopened.values()).forEach(u -> open(u.spec()));
          nextHealthCheck = now + healthCheckInterval().toNanos();
        }
        // a root that fell into error (or a watch limit) since is checked again within a second
        nextHealthCheck = Math.min(nextHealthCheck, now + healthCheckInterval().toNanos());
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
        publish(batch, false);
        List<CompletableFuture<QueueSnapshot>> asked = mailbox.takeRescans();
        if (!asked.isEmpty()) {
          rescan(asked);
        }
      } catch (ClosedWatchServiceException e) {
        break;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (RuntimeException e) {
        failAll(e, batch != null ? batch : publication.begin()); // retried by the health check
        nextHealthCheck = System.nanoTime() + HEALTH_CHECK_INTERVAL.toNanos();
      } finally {
        if (!anyArrived()) {
          publication.idle();
        }
      }
    }
    log.debug("queue watcher stopped roots={}", trackers.size());
  }

  /**
   * Walks every root, applies the events that came meanwhile, publishes the result stamped with the
   * instant the walk started (told to the listener even when nothing changed: it is a fresh
   * reading) and answers {@code asked} with it.
   */
  QueueSnapshot rescan(List<CompletableFuture<QueueSnapshot>> asked) {
    Instant start = publication.begin();
    QueueSnapshot answer = null;
    try {
      trackers.forEach(t -> t.reconcile(RootTracker.Reason.RESCAN));
      arrive(0); // a file moved during the walk may have been missed by it: apply its event
      trackers.forEach(RootTracker::takeArrived);
      trackers.forEach(RootTracker::settle);
      publish(start, true);
    } catch (ClosedWatchServiceException e) {
      throw e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // only when down: the loop ends on it
    } catch (RuntimeException e) {
      failAll(e, start);
    } finally {
      Judgements j = publication.published();
      answer = (closed.getAsBoolean() ? j.allFailed("is closed") : j).snapshot(start);
      for (CompletableFuture<QueueSnapshot> f : asked) {
        f.complete(answer);
      }
    }
    return answer;
  }

  /**
   * Watches the roots of {@code specs} not watched yet: opens each one's watch service, walks it
   * and publishes the result, then runs {@code published}. The snapshot is stamped with the instant
   * before the walks, every root's events up to then applied (those taken before, and those that
   * came during the walks), as a rescan's. A root whose watch service cannot be opened is published
   * in error and tried again at each health check.
   */
  void add(List<QueueRootSpec> specs, Runnable published) {
    try {
      trackers.forEach(RootTracker::takeArrived);
      trackers.forEach(RootTracker::settle);
      Instant start = publication.begin();
      for (QueueRootSpec spec : specs) {
        Path root = spec.root().toAbsolutePath().normalize();
        if (trackers.stream().noneMatch(t -> t.root().equals(root))
            && !unopened.containsKey(root)) {
          open(spec);
        }
      }
      arrive(0);
      trackers.forEach(RootTracker::takeArrived);
      trackers.forEach(RootTracker::settle);
      publish(start, false);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // only when down: the loop ends on it
    } finally {
      published.run();
    }
  }

  /** Test hook: how watch services of roots added from now on are opened. */
  void opener(Opener o) {
    opener = o;
  }

  /** Opens, walks and keeps a root added while running; on failure, keeps it as unopened. */
  private void open(QueueRootSpec spec) {
    Path root = spec.root().toAbsolutePath().normalize();
    RootTracker t;
    try {
      t = new RootTracker(spec, opener.open(spec));
    } catch (IOException | RuntimeException e) {
      String why =
          "queue root " + root + " cannot be watched: opening its watch service failed: " + e;
      if (unopened.put(root, new Unopened(spec, why)) == null) {
        log.error("queue root added but not watched root={} reason=\"{}\"", root, e.toString());
      }
      return;
    }
    if (unopened.remove(root) != null) {
      log.info("queue root watch service opened root={}", root);
    }
    trackers.add(t);
    try {
      t.reconcile(RootTracker.Reason.ADDED);
    } catch (ClosedWatchServiceException e) {
      throw e;
    } catch (RuntimeException e) {
      t.fail("queue root " + root + " walk failed: " + e); // walked again by the health check
    }
    RootJudgement j = t.judgement();
    log.info(
        "queue root added root={} files={} bytes={} error={}",
        root,
        j.files(),
        j.bytes(),
        j.error().orElse("none"));
  }

  private long windowNanos() {
    return (publication.urgent() ? URGENT_WINDOW : IN_SERVICE_WINDOW).toNanos();
  }

  private boolean anyArrived() {
    for (int i = 0; i < trackers.size(); i++) {
      if (trackers.get(i).hasArrived()) {
        return true;
      }
    }
    return false;
  }

  /**
   * Waits up to {@code nanos} for a key (or a request), then collects every key signalled on every
   * root, without taking their events. A key is signalled again only once reset (when settled), so
   * this ends even while events keep coming.
   */
  private void arrive(long nanos) throws InterruptedException {
    if (trackers.size() > 1) {
      nanos = Math.min(nanos, MULTI_ROOT_POLL_SLICE.toNanos());
    }
    RootTracker first = trackers.get(0);
    WatchKey key = mailbox.await(first.watchService(), nanos);
    if (key != null) {
      first.arrive(key);
    }
    for (int i = 0; i < trackers.size(); i++) {
      RootTracker t = trackers.get(i);
      for (WatchKey k = t.watchService().poll(); k != null; k = t.watchService().poll()) {
        t.arrive(k);
      }
    }
  }

  private void failAll(RuntimeException e, Instant at) {
    if (closed.getAsBoolean()) {
      return;
    }
    log.error("queue watcher iteration failed roots={}", trackers.size(), e);
    for (RootTracker t : trackers) {
      t.fail("queue root " + t.root() + " watch failed: " + e);
    }
    publish(at, false);
  }

  private void publish(Instant takenAt, boolean tell) {
    List<RootJudgement> roots = new ArrayList<>();
    trackers.forEach(t -> roots.add(t.judgement()));
    unopened.values().forEach(u -> roots.add(failed(u)));
    Judgements next = new Judgements(roots);
    publication.publish(next, takenAt, tell, closed.getAsBoolean(), System.nanoTime());
  }

  private static RootJudgement failed(Unopened u) {
    return RootJudgement.failed(
        u.spec().root().toAbsolutePath().normalize(), u.spec().residualBytes(), u.why());
  }
}
