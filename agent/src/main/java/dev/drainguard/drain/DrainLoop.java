package dev.drainguard.drain;

import dev.drainguard.queue.QueueSnapshot;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives a {@link DrainController} on one scheduler thread: a tick at a fixed pace (timers), one
 * right away for every new queue snapshot, and one at the end of a quiet period. A failing tick is
 * logged and the next one runs: the loop never dies while the agent lives.
 */
public final class DrainLoop implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(DrainLoop.class);

  /**
   * How often timers are re-evaluated (heartbeat due, quiet period over, deadline): a drained queue
   * is acted on within this of its quiet period ending, and a tick with nothing due costs a few
   * comparisons.
   */
  public static final Duration TICK = Duration.ofMillis(200);

  /** How long {@link #close()} waits for a tick in progress (e.g. an API call) to finish. */
  static final Duration STOP_WAIT = Duration.ofSeconds(15);

  private final ScheduledExecutorService scheduler;
  private final Duration tick;
  private volatile DrainController controller;

  /** The one extra evaluation pending at the end of a quiet period; touched on the loop thread. */
  private ScheduledFuture<?> quietTick;

  public DrainLoop(ScheduledExecutorService scheduler, Duration tick) {
    this.scheduler = scheduler;
    this.tick = tick;
  }

  /** Starts ticking {@code c}; snapshots that arrived before are read by its first tick. */
  public void start(DrainController c) {
    this.controller = c;
    scheduler.scheduleWithFixedDelay(this::safeTick, 0, tick.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The queue probe's listener: evaluates the new snapshot on the loop thread. */
  public void onQueues(QueueSnapshot s) {
    DrainController c = controller;
    if (c == null || scheduler.isShutdown()) {
      return;
    }
    try {
      scheduler.execute(
          () -> {
            try {
              c.onQueues(s);
              tickWhenQuiet(c);
            } catch (RuntimeException e) {
              log.error("drain evaluation failed, continuing: {}", e.toString(), e);
            }
          });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      log.debug("snapshot after stop ignored");
    }
  }

  /**
   * Runs {@code action} on the loop thread, between ticks, and returns its result: how the control
   * socket's hold and release reach the controller without racing a tick.
   *
   * @throws IllegalStateException when the loop is stopped or does not answer within {@code wait}
   */
  public <T> T call(Function<DrainController, T> action, Duration wait) {
    DrainController c = controller;
    if (c == null || scheduler.isShutdown()) {
      throw new IllegalStateException("the drain loop is not running");
    }
    Future<T> f = scheduler.submit(() -> action.apply(c));
    try {
      return f.get(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      f.cancel(false);
      throw new IllegalStateException("the drain loop did not answer within " + wait, e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("the drain loop failed: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the drain loop", e);
    }
  }

  private void safeTick() {
    try {
      controller.tick();
      tickWhenQuiet(controller);
    } catch (RuntimeException e) {
      log.error("drain tick failed, continuing: {}", e.toString(), e);
    }
  }

  /**
   * Schedules one evaluation for the moment the quiet period ends, unless one is pending: the
   * regular tick alone would act up to one tick later.
   */
  private void tickWhenQuiet(DrainController c) {
    if (quietTick != null && !quietTick.isDone()) {
      return;
    }
    c.untilQuietPeriodEnds()
        .ifPresent(
            left -> {
              try {
                quietTick =
                    scheduler.schedule(this::safeTick, left.toMillis() + 1, TimeUnit.MILLISECONDS);
              } catch (java.util.concurrent.RejectedExecutionException e) {
                log.debug("quiet-period evaluation after stop not scheduled");
              }
            });
  }

  /** Stops ticking. Sends nothing: stopping the agent never completes a lifecycle action. */
  @Override
  public void close() {
    DrainController c = controller;
    if (c != null) {
      c.stop();
    }
    scheduler.shutdownNow();
    try {
      if (!scheduler.awaitTermination(STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn("drain loop did not stop within {}", STOP_WAIT);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
