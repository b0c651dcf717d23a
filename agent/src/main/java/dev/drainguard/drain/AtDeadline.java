package dev.drainguard.drain;

import java.time.Instant;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the deadline does (DESIGN.md, "The controller's phases"): queues confirmed empty are
 * completed as usual; otherwise the policy decides, {@code complete} (CONTINUE, the bytes lost
 * logged), {@code retain} (ABANDON into retention) or {@code expire} (heartbeats stop, the hook's
 * DefaultResult applies at its timeout).
 */
final class AtDeadline {

  private static final Logger log = LoggerFactory.getLogger(DrainController.class);

  private final DrainState state;
  private final DrainSettings settings;
  private final Confirmation confirmation;
  private final Retention retention;
  private final BiConsumer<Instant, String> complete;
  private long loggedBytes = -1; // the bytes the last "will be lost" line gave

  /**
   * @param complete sends CONTINUE, with the reason it is sent
   */
  AtDeadline(
      DrainState state,
      DrainSettings settings,
      Confirmation confirmation,
      Retention retention,
      BiConsumer<Instant, String> complete) {
    this.state = state;
    this.settings = settings;
    this.confirmation = confirmation;
    this.retention = retention;
    this.complete = complete;
  }

  void reached(Instant now) {
    if (state.holdReason == null && state.evidence.quiet(now)) {
      if (confirmation.drained(now)) {
        complete.accept(now, "queues drained; deadline reached");
        return;
      }
      if (confirmation.pending(now)) {
        return; // the confirmation of empty queues is on its way: the policy can wait for it
      }
    }
    long bytes = state.snapshot.totalBytes();
    String known =
        state.snapshot.anyError() ? " (some queue probes cannot tell: more may be at risk)" : "";
    switch (settings.deadlinePolicy()) {
      case COMPLETE -> {
        if (bytes != loggedBytes) { // again before a retry when more was queued since
          loggedBytes = bytes;
          log.error(
              "deadline reached with data queued, policy=complete sends CONTINUE: {} bytes will"
                  + " be lost{} {} deadline={}",
              bytes,
              known,
              state.ref,
              state.deadline);
        }
        complete.accept(now, "deadline reached, policy complete");
      }
      case RETAIN -> retention.abandon(now);
      case EXPIRE ->
          state.end(
              now,
              Phase.EXPIRED,
              null,
              "deadline reached, policy expire: heartbeats stopped, the hook's DefaultResult="
                  + state.hook.defaultResult()
                  + " applies at its timeout with "
                  + bytes
                  + " bytes queued"
                  + known);
    }
  }
}
