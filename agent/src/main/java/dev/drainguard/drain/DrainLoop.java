package dev.drainguard.drain;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The decision thread: takes events in the order they arrive and steps the {@link DrainController}
 * with each, then hands its intents to the executors. Between events it sleeps until the next
 * instant the controller says is due — there is no fixed tick. Anything a step throws is logged and
 * the loop goes on; if the thread dies anyway, {@code onDeath} is told (the agent exits non-zero
 * and systemd restarts it, which is safe).
 */
public final class DrainLoop implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(DrainLoop.class);

  /** How long {@link #close()} waits for a step in progress to finish. */
  static final Duration STOP_WAIT = Duration.ofSeconds(5);

  /** A task for the decision thread: an operator request, answered through its future. */
  private record Task<T>(Function<DrainController, T> action, CompletableFuture<T> answer) {
    void run(DrainController c) {
      try {
        answer.complete(action.apply(c));
      } catch (Throwable e) { // the operator waiting for the answer must hear of it too
        answer.completeExceptionally(e);
      }
    }
  }

  private final DrainController controller;
  private final Consumer<List<Intent>> effects;
  private final Clock clock;
  private final Optional<Duration> clockRecheck;
  private final Runnable onDeath;
  private final LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
  private final AtomicLong wakeups = new AtomicLong();
  private final Thread thread;
  private volatile boolean stopped;
  private volatile boolean stepping;
  private volatile Optional<Instant> plannedWake = Optional.empty();

  /**
   * @param effects carries out the intents of every step; must not block
   * @param clockRecheck for test clocks that move without telling anyone: the clock is read again
   *     at least this often. Empty in the agent, whose clock moves with real time.
   * @param onDeath called if the decision thread ends while the loop is not stopped
   */
  public DrainLoop(
      DrainController controller,
      Consumer<List<Intent>> effects,
      Clock clock,
      Optional<Duration> clockRecheck,
      Runnable onDeath) {
    this.controller = controller;
    this.effects = effects;
    this.clock = clock;
    this.clockRecheck = clockRecheck;
    this.onDeath = onDeath;
    this.thread = new Thread(this::run, "drainguard-drain");
    thread.setDaemon(true);
  }

  public void start() {
    thread.start();
  }

  /** Queues an event for the decision thread; from any thread, never blocks. */
  public void offer(Event e) {
    if (!stopped) {
      inbox.add(e);
    }
  }

  /** Nothing queued and no step running: for tests that wait for the agent to settle. */
  public boolean idle() {
    return !stepping && inbox.isEmpty();
  }

  /**
   * The instant the decision thread last planned to wake at on its own (empty: only an event wakes
   * it): for test clocks that must not step past it, as real time would not.
   */
  public Optional<Instant> plannedWake() {
    return plannedWake;
  }

  /** How many times the decision thread has woken up (events, due instants, test rechecks). */
  public long wakeups() {
    return wakeups.get();
  }

  /**
   * Runs {@code action} on the decision thread between events and returns its result: how the
   * control socket's hold and release reach the controller.
   *
   * @throws IllegalStateException when the loop is stopped or does not answer within {@code wait}
   */
  public <T> T call(Function<DrainController, T> action, Duration wait) {
    if (stopped) {
      throw new IllegalStateException("the drain loop is not running");
    }
    CompletableFuture<T> answer = new CompletableFuture<>();
    inbox.add(new Task<>(action, answer));
    try {
      return answer.get(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException("the drain loop did not answer within " + wait, e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("the drain loop failed: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the drain loop", e);
    }
  }

  private void run() {
    try {
      step(new Event.Wake());
      while (!stopped) {
        Object next = inbox.poll(waitNanos(), TimeUnit.NANOSECONDS);
        if (stopped) {
          break;
        }
        stepping = true;
        wakeups.incrementAndGet();
        try {
          if (next instanceof Task<?> t) {
            t.run(controller);
            step(new Event.Wake());
          } else {
            step(next instanceof Event e ? e : new Event.Wake());
          }
        } catch (Throwable t) { // one bad step must not end the decisions
          log.error("drain step failed, continuing: {}", t.toString(), t);
        } finally {
          plannedWake = controller.nextWake(clock.instant()); // before idle() can say true
          stepping = false;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable t) {
      log.error("drain loop died: {}", t.toString(), t);
    } finally {
      if (!stopped) {
        log.error("the decision thread ended while the agent runs: exiting so that it restarts");
        onDeath.run();
      }
    }
  }

  private void step(Event e) {
    List<Intent> intents = controller.step(e, clock.instant());
    if (!intents.isEmpty()) {
      effects.accept(intents);
    }
  }

  private long waitNanos() {
    Instant now = clock.instant();
    Optional<Instant> due = controller.nextWake(now);
    plannedWake = due;
    long wait =
        due.map(d -> Math.max(1, Duration.between(now, d).toNanos())).orElse(Long.MAX_VALUE);
    if (clockRecheck.isPresent()) {
      wait = Math.min(wait, clockRecheck.get().toNanos());
    }
    return wait;
  }

  /** Stops the decisions. Sends nothing: stopping the agent never completes a lifecycle action. */
  @Override
  public void close() {
    controller.stop();
    stopped = true;
    thread.interrupt();
    try {
      thread.join(STOP_WAIT.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
