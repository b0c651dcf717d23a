package dev.drainguard.drain;

import dev.drainguard.imds.ImdsException;
import dev.drainguard.imds.InstanceMetadata;
import dev.drainguard.imds.SpotNotice;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spot notices, read from IMDS at the poll interval. They cannot be delayed: a rebalance
 * recommendation is flagged and runs the on-termination command; an interruption runs it and ends
 * the drain, saying what is at risk.
 */
final class SpotNotices {

  private static final Logger log = LoggerFactory.getLogger(DrainController.class);

  private final DrainState state;
  private final InstanceMetadata imds;
  private final EventCommands events;
  private final Duration every;
  private Instant nextPoll = Instant.MIN;

  SpotNotices(DrainState state, InstanceMetadata imds, EventCommands events, Duration every) {
    this.state = state;
    this.imds = imds;
    this.events = events;
    this.every = every;
  }

  void poll(Instant now) {
    if (now.isBefore(nextPoll)) {
      return;
    }
    nextPoll = now.plus(every);
    try {
      if (state.rebalanceAt == null) {
        imds.rebalanceRecommendation().ifPresent(this::onRebalance);
      }
      imds.spotInterruption().ifPresent(n -> onInterruption(now, n));
    } catch (ImdsException e) {
      state.error("read spot notices for instance=" + state.ref.instanceId(), e);
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
