package dev.drainguard.queue;

import java.nio.file.ClosedWatchServiceException;
import java.nio.file.WatchKey;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
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

  private final List<RootTracker> trackers;
  private final Duration reconcileInterval;
  private final WatcherMailbox mailbox;
  private final Publication publication;
  private final BooleanSupplier closed;

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
   * QueueWatcher#IN_SERVICE_WINDOW}, or {@link QueueWatcher#URGENT_WINDOW} while urgent) has passed
   * since the last batch, and each touched path is then stat'ed once. So a writer's burst costs one
   * batch per window, and a change is applied within a window of its event.
   */
  void run() {
    long start = System.nanoTime();
    long nextReconcile = start + reconcileInterval.toNanos();
    long nextHealthCheck = start + QueueWatcher.HEALTH_CHECK_INTERVAL.toNanos();
    long nextPoll = start + QueueWatcher.POLL_INTERVAL.toNanos();
    long nextWatchRetry = start + QueueWatcher.WATCH_RETRY_INTERVAL.toNanos();
    long lastBatch = start - QueueWatcher.IN_SERVICE_WINDOW.toNanos();
    while (!closed.getAsBoolean()) {
      Instant batch = null;
      try {
        long timers =
            Math.min(
                Math.min(nextReconcile, nextHealthCheck),
                Math.min(nextPoll, publication.tellDue(System.nanoTime())));
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
          nextHealthCheck = now + QueueWatcher.HEALTH_CHECK_INTERVAL.toNanos();
        }
        if (now - nextPoll >= 0) {
          boolean retry = now - nextWatchRetry >= 0;
          trackers.forEach(t -> t.poll(retry));
          nextPoll = now + QueueWatcher.POLL_INTERVAL.toNanos();
          nextWatchRetry =
              retry ? now + QueueWatcher.WATCH_RETRY_INTERVAL.toNanos() : nextWatchRetry;
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
        nextHealthCheck = System.nanoTime() + QueueWatcher.HEALTH_CHECK_INTERVAL.toNanos();
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

  private long windowNanos() {
    return (publication.urgent() ? QueueWatcher.URGENT_WINDOW : QueueWatcher.IN_SERVICE_WINDOW)
        .toNanos();
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
      nanos = Math.min(nanos, QueueWatcher.MULTI_ROOT_POLL_SLICE.toNanos());
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
    Judgements next = new Judgements(trackers.stream().map(RootTracker::judgement).toList());
    publication.publish(next, takenAt, tell, closed.getAsBoolean(), System.nanoTime());
  }
}
