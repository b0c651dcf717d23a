package dev.drainguard.drain;

import dev.drainguard.imds.SpotNotice;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spot notices, as the IMDS poller reads them. They cannot be delayed: a rebalance recommendation
 * is flagged and runs the on-termination command; an interruption runs it and ends the drain,
 * saying what is at risk.
 */
final class SpotNotices {

  private static final Logger log = LoggerFactory.getLogger(DrainController.class);

  private final DrainState state;
  private final EventCommands events;

  SpotNotices(DrainState state, EventCommands events) {
    this.state = state;
    this.events = events;
  }

  void onRebalance(SpotNotice n) {
    if (state.rebalanceAt != null) {
      return;
    }
    state.rebalanceAt = n.time();
    log.warn(
        "spot rebalance recommendation {} noticeTime={} probes={}: interruption risk is elevated",
        state.ref,
        n.time(),
        DrainState.describe(state.snapshot));
    events.fire("rebalance-recommendation", state.commandEnv(state.phase), state.out);
  }

  void onInterruption(Instant now, SpotNotice n) {
    if (state.phase.terminal()) {
      return;
    }
    state.spotInterruption = n;
    events.fire("spot-interruption", state.commandEnv(state.phase), state.out);
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
