package dev.drainguard.drain;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Empty must be confirmed before a release (DESIGN.md, "Evidence and irreversible steps"): once the
 * quiet period is over, or an operator released the action, every deciding source is read again — a
 * full rescan of the files roots, a fresh reading of each probe — and only readings that started
 * after that moment count. Anything not empty restarts the quiet period.
 */
final class Confirmation {

  private static final Logger log = LoggerFactory.getLogger(DrainController.class);

  private final DrainState state;
  private final Duration askAgain;
  private Instant askedAt;

  /**
   * @param askAgain how long a confirmation may go unanswered before it is asked for again: a
   *     rescan or a probe read that hung is not waited for
   */
  Confirmation(DrainState state, Duration askAgain) {
    this.state = state;
    this.askAgain = askAgain;
  }

  /** Quiet, and confirmed by readings that started after the quiet period ended; asks if not. */
  boolean drained(Instant now) {
    Evidence e = state.evidence;
    if (!e.quiet(now)) {
      return false;
    }
    return confirmedSince(e.quietEnd(), now);
  }

  /**
   * Whether an operator's release still stands: a release that was not forced was accepted because
   * the queues read empty, and is dropped when data is seen before it could be carried out.
   */
  boolean releaseStands(Instant now) {
    if (state.releaseForced || state.snapshot.empty()) {
      return true;
    }
    log.warn(
        "operator release dropped {}: queued again since it was given ({}); holding",
        state.ref,
        DrainState.describe(state.snapshot));
    state.releaseReason = null;
    return false;
  }

  /** A forced release goes at once; any other waits for readings that started after it. */
  boolean releaseConfirmed(Instant now) {
    return state.releaseForced || confirmedSince(state.releasedAt, now);
  }

  private boolean confirmedSince(Instant since, Instant now) {
    if (state.evidence.confirmed(now, since)) {
      return true;
    }
    if (askedAt == null || askedAt.isBefore(since) || !now.isBefore(askedAt.plus(askAgain))) {
      askedAt = now;
      state.out.add(new Intent.Confirm());
      log.debug("confirming empty queues {} since={}", state.ref, since);
    }
    return false;
  }

  /** Whether a confirmation was asked for and may still be answered. */
  boolean pending(Instant now) {
    return askedAt != null && now.isBefore(askedAt.plus(askAgain));
  }

  /** When an unanswered confirmation is asked for again. */
  Optional<Instant> askAgainAt() {
    return Optional.ofNullable(askedAt).map(a -> a.plus(askAgain));
  }
}
