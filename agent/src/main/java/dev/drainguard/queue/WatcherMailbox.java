package dev.drainguard.queue;

import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * What other threads ask of the watcher thread: rescans and test hooks. The watcher thread waits
 * for filesystem events in {@link #await}, and a request wakes it at once: it is interrupted, but
 * only while it waits there, so an interrupt never reaches anything else it does (a listener, a
 * walk).
 */
final class WatcherMailbox {

  private final Queue<Runnable> calls = new ConcurrentLinkedQueue<>();
  private final Queue<CompletableFuture<QueueSnapshot>> rescans = new ConcurrentLinkedQueue<>();
  private final Object lock = new Object();

  /** The watcher thread while it waits in {@link #await}; guarded by {@link #lock}. */
  private Thread waiting;

  /** Why the watcher no longer answers; null while it does. */
  private volatile String down;

  /**
   * Asks for a full rescan; the future is completed by the watcher thread, or with {@code
   * unanswered} at once when the watcher is down.
   */
  CompletableFuture<QueueSnapshot> askRescan(Function<String, QueueSnapshot> unanswered) {
    CompletableFuture<QueueSnapshot> answer = new CompletableFuture<>();
    rescans.add(answer);
    wake();
    String why = down;
    if (why != null) {
      answer.complete(unanswered.apply(why)); // it may have gone down before our request was seen
    }
    return answer;
  }

  /** The rescans asked so far; the watcher thread answers them with one walk. */
  List<CompletableFuture<QueueSnapshot>> takeRescans() {
    List<CompletableFuture<QueueSnapshot>> taken = new ArrayList<>();
    for (var r = rescans.poll(); r != null; r = rescans.poll()) {
      taken.add(r);
    }
    return taken;
  }

  /**
   * Runs {@code action} on the watcher thread and waits until it ran, at most {@code bound}.
   *
   * @throws IllegalStateException when the watcher is down or did not get to it in time
   */
  void call(Runnable action, Duration bound) {
    CompletableFuture<Void> done = submit(action);
    if (down != null) {
      throw new IllegalStateException("queue watcher is down: " + down);
    }
    try {
      done.get(bound.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the queue watcher", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("queue watcher did not run the call: " + e, e);
    }
  }

  /**
   * Has the watcher thread run {@code action} soon, without waiting for it; the future completes
   * when it ran (exceptionally when it threw). A call made before the thread starts runs in its
   * first batch; one made once it is down is dropped, and its future never completes.
   */
  CompletableFuture<Void> submit(Runnable action) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    calls.add(
        () -> {
          try {
            action.run();
            done.complete(null);
          } catch (RuntimeException | Error e) {
            done.completeExceptionally(e);
            throw e;
          }
        });
    wake();
    return done;
  }

  /** Has the watcher thread run a batch soon, without waiting for it. */
  void nudge() {
    calls.add(() -> {});
    wake();
  }

  /** Whether a call or a rescan waits; the watcher thread then does not wait for events. */
  boolean pending() {
    return !calls.isEmpty() || !rescans.isEmpty();
  }

  /** Runs the calls that wait, on the watcher thread; true when there were any. */
  boolean runCalls() {
    boolean any = false;
    for (Runnable call = calls.poll(); call != null; call = calls.poll()) {
      call.run();
      any = true;
    }
    return any;
  }

  /**
   * Waits up to {@code nanos} for a key of {@code service}; returns null at once when a request
   * comes (or waits already).
   */
  WatchKey await(WatchService service, long nanos) throws InterruptedException {
    if (nanos <= 0) {
      return service.poll();
    }
    synchronized (lock) {
      if (pending()) {
        return service.poll();
      }
      waiting = Thread.currentThread();
    }
    try {
      return service.poll(nanos, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      if (down != null) {
        throw e;
      }
      return null; // woken by a request
    } finally {
      synchronized (lock) {
        waiting = null;
      }
      Thread.interrupted(); // a wake that came after the poll returned is spent here
    }
  }

  /** The watcher no longer answers: every waiting rescan gets {@code unanswered} now. */
  void down(String why, Function<String, QueueSnapshot> unanswered) {
    down = why;
    for (var r : takeRescans()) {
      r.complete(unanswered.apply(why));
    }
    calls.clear();
  }

  String whyDown() {
    return down;
  }

  private void wake() {
    synchronized (lock) {
      if (waiting != null) {
        waiting.interrupt();
      }
    }
  }
}
