package dev.drainguard.drain;

import dev.drainguard.imds.InstanceMetadata;
import dev.drainguard.imds.SpotNotice;
import dev.drainguard.imds.TargetLifecycleState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one IMDS source: every poll interval, on a thread of its own, reads the target lifecycle
 * state and the spot notices and reports them as one {@link Event.ImdsPolled}. A slow or hung
 * metadata service delays its own next poll, never a decision or a heartbeat. Whatever a read
 * throws is reported and the schedule goes on.
 */
public final class ImdsPoller implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ImdsPoller.class);

  private final InstanceMetadata imds;
  private final Duration every;
  private final ScheduledExecutorService scheduler;
  private final Consumer<Event> sink;
  private final BooleanSupplier active;
  private boolean rebalanceSeen;

  /**
   * @param active false once the drain has ended: nothing is read any more
   * @param sink where each poll's result goes (the decision loop)
   */
  public ImdsPoller(
      InstanceMetadata imds,
      Duration every,
      ScheduledExecutorService scheduler,
      BooleanSupplier active,
      Consumer<Event> sink) {
    this.imds = imds;
    this.every = every;
    this.scheduler = scheduler;
    this.active = active;
    this.sink = sink;
  }

  public void start() {
    scheduler.scheduleWithFixedDelay(this::pollSafely, 0, every.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void pollSafely() {
    try {
      if (active.getAsBoolean()) {
        sink.accept(poll());
      }
    } catch (Throwable t) { // the schedule must go on whatever one poll throws
      log.error("instance metadata poll failed, continuing: {}", t.toString(), t);
      sink.accept(
          new Event.ImdsPolled(
              Optional.empty(),
              Optional.empty(),
              Optional.empty(),
              Optional.of("instance metadata poll failed: " + t)));
    }
  }

  /** One poll: every read is attempted; the errors are reported together. */
  Event.ImdsPolled poll() {
    List<String> errors = new ArrayList<>();
    Optional<TargetLifecycleState> target = Optional.empty();
    Optional<SpotNotice> interruption = Optional.empty();
    Optional<SpotNotice> rebalance = Optional.empty();
    try {
      target = Optional.of(imds.targetLifecycleState());
    } catch (RuntimeException e) {
      errors.add("read target lifecycle state: " + e.getMessage());
    }
    try {
      interruption = imds.spotInterruption();
    } catch (RuntimeException e) {
      errors.add("read spot interruption notice: " + e.getMessage());
    }
    if (!rebalanceSeen) {
      try {
        rebalance = imds.rebalanceRecommendation();
        rebalanceSeen = rebalance.isPresent();
      } catch (RuntimeException e) {
        errors.add("read rebalance recommendation: " + e.getMessage());
      }
    }
    return new Event.ImdsPolled(
        target,
        rebalance,
        interruption,
        errors.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", errors)));
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
  }
}
