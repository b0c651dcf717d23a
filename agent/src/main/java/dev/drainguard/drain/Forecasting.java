package dev.drainguard.drain;

import dev.drainguard.forecast.Forecast;
import dev.drainguard.forecast.ForecastSettings;
import dev.drainguard.forecast.QueueForecasts;
import dev.drainguard.forecast.RiskWarnings;
import dev.drainguard.queue.ProbeReading;
import dev.drainguard.queue.QueueSnapshot;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the drain will finish in time: the deciding probes' drain rate and time to empty, the
 * bytes still queued at the deadline at that rate, and a queue that makes no progress. Said once at
 * WARN (again only when the figure moves by more than a share), shown in status and metrics, and
 * told to the on-termination command ({@code DRAINGUARD_EVENT=at-risk}, {@code drain-stalled}).
 */
final class Forecasting {

  private static final Logger log = LoggerFactory.getLogger(DrainController.class);

  private final QueueForecasts forecasts;
  private final RiskWarnings risk;
  private final DeadlinePolicy policy;
  private Forecast last;
  private boolean stalled;
  private boolean retentionSaid;

  Forecasting(ForecastSettings settings, DeadlinePolicy policy, Instant start) {
    this.forecasts = new QueueForecasts(settings);
    this.risk = new RiskWarnings(settings);
    this.policy = policy;
    this.last = Forecast.unknown(start);
  }

  /** The latest forecast. */
  Forecast last() {
    return last;
  }

  /** Takes in the step's view and, while terminating, warns of what the deadline will leave. */
  void evaluate(DrainState state, EventCommands events, Instant now) {
    forecasts.observe(asOf(state.snapshot, now));
    boolean draining =
        state.phase == Phase.HOLDING
            || state.phase == Phase.DRAINED
            || state.phase == Phase.AWAITING_ACTION
            || state.phase == Phase.RETAINED;
    Optional<Instant> deadline =
        draining && state.phase != Phase.RETAINED
            ? Optional.ofNullable(state.deadline)
            : Optional.empty();
    last = forecasts.total(now, deadline);
    state.forecast = last;
    if (!draining) {
      return;
    }
    if (deadline.isPresent() && last.atRisk()) {
      if (policy == DeadlinePolicy.RETAIN) {
        if (!retentionSaid) {
          retentionSaid = true;
          log.warn(
              "{}: retention will be needed (policy retain) {}",
              last.atRiskMessage(deadline.get()),
              state.ref);
        }
      } else if (risk.shouldWarn(last)) {
        log.warn("{} {} policy={}", last.atRiskMessage(deadline.get()), state.ref, policy);
        if (state.atRiskWarnedAt == null) {
          state.atRiskWarnedAt = now;
        }
        events.fire("at-risk", state.commandEnv(state.phase), state.out);
      }
    }
    if (last.stalled() && !stalled) {
      log.warn(
          "drain stalled {} {}: the usual cause is a dead or blocked Cribl process",
          state.ref,
          last.describe());
      events.fire("drain-stalled", state.commandEnv(state.phase), state.out);
    }
    stalled = last.stalled();
  }

  /**
   * The files probe's reading is current until the watcher says otherwise, so it is taken as read
   * now: the watcher tells every change of emptiness, files and bucket at once, and a smaller
   * change of bytes within 1 s while terminating (5 s in service), which a rate over minutes does
   * not feel. The scheduled probes keep the instants their reads started.
   */
  private static QueueSnapshot asOf(QueueSnapshot s, Instant now) {
    List<ProbeReading> readings = new ArrayList<>(s.probes().size());
    for (ProbeReading r : s.probes()) {
      readings.add(
          r.probe().equals(ProbeReading.FILES)
              ? new ProbeReading(r.probe(), now, r.queues(), r.unknown(), r.empty(), r.deciding())
              : r);
    }
    return new QueueSnapshot(s.takenAt(), s.roots(), readings, s.empty());
  }
}
