package dev.drainguard.drain;

import dev.drainguard.imds.ImdsException;
import dev.drainguard.imds.InstanceMetadata;
import dev.drainguard.imds.SpotNotice;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spot notices, read from IMDS at the poll interval. They cannot be delayed: a rebalance
 * recommendation is flagged and runs the on-termination command; an interruption runs it and ends
 * the drain, saying what is at risk.
 *
 * <p>The reads run on their own executor and their answers are applied on the drain loop's thread
 * by a later {@link #poll}: the loop waits for a read it has just started only for as long as it is
 * given (never past the next heartbeat), so a metadata service slower than its read timeout delays
 * the notices, never a heartbeat. With a same-thread executor the reads are synchronous.
 */
final class SpotNotices {

  private static final Logger log = LoggerFactory.getLogger(DrainController.class);

  /**
   * The longest the drain loop waits for a read it has just started: IMDS answers in milliseconds,
   * so a read still running after this finishes in the background and a later tick applies it; the
   * loop (queue decisions, control commands) is never kept waiting by a slow metadata service.
   */
  static final Duration READ_WAIT = Duration.ofMillis(500);

  /** What one poll read; {@code error} when a read failed (after the reads before it). */
  private record Reads(
      Optional<SpotNotice> rebalance, Optional<SpotNotice> interruption, RuntimeException error) {}

  private final DrainState state;
  private final InstanceMetadata imds;
  private final EventCommands events;
  private final Duration every;
  private final Executor reads;
  private Instant nextPoll = Instant.MIN;
  private CompletableFuture<Reads> inFlight;

  SpotNotices(
      DrainState state,
      InstanceMetadata imds,
      EventCommands events,
      Duration every,
      Executor reads) {
    this.state = state;
    this.imds = imds;
    this.events = events;
    this.every = every;
    this.reads = reads;
  }

  /**
   * Starts a poll when one is due and none is running, waiting up to {@code wait} (at most {@link
   * #READ_WAIT}) for it; applies a poll that has finished.
   */
  void poll(Instant now, Duration wait) {
    if (inFlight == null) {
      if (now.isBefore(nextPoll)) {
        return;
      }
      nextPoll = now.plus(every);
      boolean rebalance = state.rebalanceAt == null;
      try {
        inFlight = CompletableFuture.supplyAsync(() -> read(rebalance), reads);
      } catch (RejectedExecutionException e) {
        log.debug("spot notice poll not started: the agent is stopping");
        return;
      }
      await(wait.compareTo(READ_WAIT) < 0 ? wait : READ_WAIT);
    }
    if (!inFlight.isDone()) {
      log.debug("spot notice poll still running {}", state.ref);
      return;
    }
    Reads r;
    try {
      r = inFlight.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw e;
    } finally {
      inFlight = null;
    }
    apply(now, r);
  }

  private void await(Duration wait) {
    if (wait.isNegative() || wait.isZero()) {
      return;
    }
    try {
      inFlight.get(wait.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException | ExecutionException e) {
      // still running: a later tick applies it; failed: applied below
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** On the reads executor: IMDS only, no state touched. */
  private Reads read(boolean rebalance) {
    Optional<SpotNotice> r = Optional.empty();
    try {
      if (rebalance) {
        r = imds.rebalanceRecommendation();
      }
      return new Reads(r, imds.spotInterruption(), null);
    } catch (RuntimeException e) {
      return new Reads(r, Optional.empty(), e);
    }
  }

  private void apply(Instant now, Reads r) {
    r.rebalance().ifPresent(this::onRebalance);
    r.interruption().ifPresent(n -> onInterruption(now, n));
    if (r.error() instanceof ImdsException e) {
      state.error("read spot notices for instance=" + state.ref.instanceId(), e);
    } else if (r.error() != null) {
      throw r.error();
    }
  }

  private void onRebalance(SpotNotice n) {
    state.rebalanceAt = n.time();
    log.warn(
        "spot rebalance recommendation {} noticeTime={} queuedBytes={}: interruption risk is"
            + " elevated",
        state.ref,
        n.time(),
        state.snapshot.totalBytes());
    events.fire("rebalance-recommendation", state.commandEnv(state.phase));
  }

  private void onInterruption(Instant now, SpotNotice n) {
    state.spotInterruption = n;
    events.fire("spot-interruption", state.commandEnv(state.phase));
    long left = Math.max(0, Duration.between(now, n.time()).toSeconds());
    state.end(
        now,
        Phase.INTERRUPTED,
        null,
        "spot interruption notice: EC2 will "
            + n.action()
            + " this instance at "
            + n.time()
            + " (in "
            + left
            + " s); it cannot be delayed, queued data that is not sent by then is lost");
  }
}
