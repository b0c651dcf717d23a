package dev.drainguard.queue;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the watcher has published, readable from any thread, and the listener it tells. Only the
 * watcher thread publishes.
 */
final class Publication {

  private static final Logger log = LoggerFactory.getLogger(Publication.class);

  private final Clock clock;
  private final Consumer<QueueSnapshot> listener;
  private volatile Judgements published;

  /** The instant the watcher started its current piece of work; null while it waits for events. */
  private volatile Instant busySince;

  Publication(List<QueueRootSpec> specs, Clock clock, Consumer<QueueSnapshot> listener) {
    this.clock = clock;
    this.listener = listener;
    this.published = Judgements.unscanned(specs);
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

  /** The watcher starts a piece of work (applying events, walking): returns its start instant. */
  Instant begin() {
    Instant now = clock.instant();
    busySince = now;
    return now;
  }

  /** The watcher waits for events again: what it published holds until further notice. */
  void idle() {
    busySince = null;
  }

  /**
   * Makes {@code next} the published judgement; tells the listener, with the snapshot stamped
   * {@code takenAt}, when a verdict changed or with {@code tell}.
   */
  void publish(Judgements next, Instant takenAt, boolean tell, boolean closed) {
    Judgements previous = published;
    if (next.equals(previous) && !tell) {
      return;
    }
    published = next;
    if ((tell || !next.sameVerdicts(previous)) && !closed) {
      try {
        listener.accept(next.snapshot(takenAt));
      } catch (RuntimeException e) {
        log.warn("queue snapshot listener failed roots={}", next.roots().size(), e);
      }
    }
  }
}
