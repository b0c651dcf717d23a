package dev.drainguard.queue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the watcher has published, readable from any thread, and the listener it tells. Only the
 * watcher thread publishes.
 *
 * <p>Every judgement the watcher reaches is published ({@link QueueWatcher#snapshot()} reads it);
 * the listener is told less often. It is told every change of emptiness, error, way of watching or
 * file count at once. Bytes alone: a change of {@link RootJudgement#bucket bucket} (12.5 %) at
 * once, a smaller one at most {@link #BYTES_REFRESH} later in service, {@link
 * #URGENT_BYTES_REFRESH} while urgent, and every one once urgent and past {@link #exactFrom} (the
 * approach of the deadline). A busy writer's every append thus moves no snapshot through the agent,
 * and what the listener holds is never off by more than that. Nothing the decision rests on waits:
 * emptiness is told at once, and a release is confirmed by a rescan, which is always told.
 */
final class Publication {

  private static final Logger log = LoggerFactory.getLogger(Publication.class);

  /**
   * In service, a change of bytes alone smaller than a bucket (12.5 %) is told to the listener at
   * most this late; {@link QueueWatcher#snapshot()} has it at once.
   */
  static final Duration BYTES_REFRESH = Duration.ofSeconds(5);

  /**
   * {@link #BYTES_REFRESH} while urgent: the forecast's drain rate and status's figures while
   * holding. Telling every batch's bytes instead (20 a second under a busy writer) cost a step of
   * the decision thread each, and put the agent's CPU while holding at 1.5-1.7 times inotifywait's
   * in the load bench.
   */
  static final Duration URGENT_BYTES_REFRESH = Duration.ofSeconds(1);

  private final Clock clock;
  private final Consumer<QueueSnapshot> listener;
  private volatile Judgements published;
  private volatile boolean urgent;

  /** While urgent, from this instant on every change is told (see {@link #exactFrom}). */
  private volatile Instant exactFrom = Instant.MAX;

  /** What the listener was last told, and when (nanoTime); watcher thread only. */
  private Judgements told;

  private long toldAt;
  private boolean withheld;

  /** The instant the watcher started its current piece of work; null while it waits for events. */
  private volatile Instant busySince;

  Publication(List<QueueRootSpec> specs, Clock clock, Consumer<QueueSnapshot> listener) {
    this.clock = clock;
    this.listener = listener;
    this.published = Judgements.unscanned(specs);
    this.told = published;
  }

  /** Whether byte changes are told within {@link #URGENT_BYTES_REFRESH} (see the class comment). */
  void urgent(boolean on) {
    urgent = on;
  }

  boolean urgent() {
    return urgent;
  }

  /**
   * While urgent, from {@code at} on every change of bytes is told at the next publish: the bytes a
   * deadline policy gives as lost or left are then those on disk, not up to {@link
   * #URGENT_BYTES_REFRESH} old ({@link Instant#MAX}: never).
   */
  void exactFrom(Instant at) {
    exactFrom = at;
  }

  Judgements published() {
    return published;
  }

  /**
   * The instant up to which the published judgement is known to hold: now while the watcher waits
   * for events, else the instant its current work started.
   */
  Instant heldAt() {
    Instant since = busySince;
    return since != null ? since : clock.instant();
  }

  /**
   * Events arrived that are not applied yet: what was published holds up to now, not after (kept
   * when already set).
   */
  void pending() {
    if (busySince == null) {
      busySince = clock.instant();
    }
  }

  /** The watcher starts a piece of work (applying events, walking): returns its start instant. */
  Instant begin() {
    Instant now = clock.instant();
    if (busySince == null) {
      busySince = now;
    }
    return now;
  }

  /** The watcher waits for events again: what it published holds until further notice. */
  void idle() {
    busySince = null;
  }

  /**
   * Makes {@code next} the published judgement; tells the listener, with the snapshot stamped
   * {@code takenAt}, when the rules in the class comment say so, or always with {@code tell}.
   *
   * @param now {@link System#nanoTime()} now
   */
  void publish(Judgements next, Instant takenAt, boolean tell, boolean closed, long now) {
    if (!next.equals(published)) {
      published = next;
    }
    boolean changed = !next.sameVerdicts(told);
    boolean worth =
        tell
            || (changed && now - toldAt >= refresh().toNanos())
            || !next.sameBucketedVerdicts(told);
    withheld = changed && !worth;
    if (worth && !closed) {
      told = next;
      toldAt = now;
      try {
        listener.accept(next.snapshot(takenAt));
      } catch (RuntimeException e) {
        log.warn("queue snapshot listener failed roots={}", next.roots().size(), e);
      }
    }
  }

  /**
   * The nanoTime by which a withheld change must be told (a publish then tells it); {@code
   * Long.MAX_VALUE} when nothing is withheld.
   */
  long tellDue() {
    return withheld ? toldAt + refresh().toNanos() : Long.MAX_VALUE;
  }

  private Duration refresh() {
    if (!urgent) {
      return BYTES_REFRESH;
    }
    return clock.instant().isBefore(exactFrom) ? URGENT_BYTES_REFRESH : Duration.ZERO;
  }
}
