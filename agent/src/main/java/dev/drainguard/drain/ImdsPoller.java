package dev.drainguard.drain;

import dev.drainguard.imds.InstanceMetadata;
import dev.drainguard.imds.SpotNotice;
import dev.drainguard.imds.TargetLifecycleState;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one IMDS source: every poll interval, on a thread of its own, reads the target lifecycle
 * state and the spot notices and reports them as one {@link Event.ImdsPolled}. A slow or hung
 * metadata service delays its own next poll, never a decision or a heartbeat. Whatever a read
 * throws is reported and the schedule goes on.
 *
 * <p>The spot notices are read at every poll unless IMDS has said that the instance is {@code
 * on-demand} ({@code instance-life-cycle}, fixed for its life): then only every {@link
 * #ON_DEMAND_NOTICES_EVERY}, two GETs of an idle poll's three saved (issue 15), and a notice that
 * AWS documents for spot instances only would still be seen with over a minute of a 2-minute
 * warning left. The purchasing option is asked after a poll has been reported, never before or
 * within one, with one attempt; unanswered, it is asked again after 1, 2, 4 ... polls, at most
 * {@link #PURCHASING_OPTION_BACKOFF_MAX} apart.
 */
public final class ImdsPoller implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ImdsPoller.class);

  private final InstanceMetadata imds;
  private final Duration every;
  private final Clock clock;
  private final Optional<Duration> clockRecheck;
  private final Consumer<Event> sink;
  private final BooleanSupplier active;
  private final BooleanSupplier wantTarget;
  private final Thread thread;
  private boolean rebalanceSeen;

  /** How often the notices are read on an instance IMDS says is on-demand. */
  static final Duration ON_DEMAND_NOTICES_EVERY = Duration.ofSeconds(60);

  /** The most polls between two tries at the purchasing option while IMDS does not answer it. */
  static final int PURCHASING_OPTION_BACKOFF_MAX = 64;

  /** What IMDS said of {@code instance-life-cycle}: null until it has answered. */
  private PurchasingOption purchasing;

  private int pollsUntilAsked;
  private int askedAfterPolls = 1;

  /** On an on-demand instance: the polls between two reads of the notices, a minute's worth. */
  private final int onDemandNoticePolls;

  /** On an on-demand instance: polls left before the notices are read again. */
  private int noticePollsLeft;

  private enum PurchasingOption {
    /** Never a spot notice. */
    ON_DEMAND,
    /** Spot, another option, or IMDS does not say: the notices are read. */
    NOTICES_POSSIBLE
  }

  private volatile boolean polling = true;
  private volatile Instant nextPoll = Instant.MIN;
  private volatile boolean stopped;

  /**
   * @param clockRecheck for test clocks that move without telling anyone: the clock is read again
   *     at least this often. Empty in the agent, whose clock moves with real time.
   * @param active false once the drain has ended: nothing is read any more
   * @param wantTarget whether the target lifecycle state is still of interest (in service); the
   *     spot notices are read in every phase
   * @param sink where each poll's result goes (the decision loop)
   */
  public ImdsPoller(
      InstanceMetadata imds,
      Duration every,
      Clock clock,
      Optional<Duration> clockRecheck,
      BooleanSupplier active,
      BooleanSupplier wantTarget,
      Consumer<Event> sink) {
    this.imds = imds;
    this.every = every;
    this.clock = clock;
    this.clockRecheck = clockRecheck;
    this.active = active;
    this.wantTarget = wantTarget;
    this.sink = sink;
    // counted in polls, which start at a fixed rate, so that no read's own time pushes a minute
    // into the next poll; at an interval of a minute or more, at every poll
    this.onDemandNoticePolls =
        (int) Math.max(1, Math.min(Integer.MAX_VALUE, ON_DEMAND_NOTICES_EVERY.dividedBy(every)));
    this.thread = new Thread(this::run, "drainguard-imds");
    thread.setDaemon(true);
  }

  public void start() {
    thread.start();
  }

  /** No poll running and none due at the clock's time; for tests that wait for quiet. */
  public boolean idle() {
    return !polling && clock.instant().isBefore(nextPoll);
  }

  private void run() {
    while (!stopped) {
      polling = true;
      Instant started = clock.instant();
      pollSafely();
      nextPoll = started.plus(every); // at a fixed rate: a slow read does not push the next one
      polling = false;
      Instant now;
      while (!stopped && (now = clock.instant()).isBefore(nextPoll)) {
        long nanos = Duration.between(now, nextPoll).toNanos();
        if (clockRecheck.isPresent()) {
          nanos = Math.min(nanos, clockRecheck.get().toNanos());
        }
        LockSupport.parkNanos(this, nanos);
      }
    }
  }

  private void pollSafely() {
    try {
      if (active.getAsBoolean()) {
        sink.accept(poll());
        afterPoll();
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

  /**
   * One poll: every read is attempted; the errors are reported together. The notices are read
   * unless the instance is known to be on-demand and they were read fewer than a minute's polls ago
   * ({@link #ON_DEMAND_NOTICES_EVERY} divided by the interval, at least one).
   */
  Event.ImdsPolled poll() {
    List<String> errors = new ArrayList<>();
    Optional<TargetLifecycleState> target = Optional.empty();
    Optional<SpotNotice> interruption = Optional.empty();
    Optional<SpotNotice> rebalance = Optional.empty();
    if (wantTarget.getAsBoolean()) {
      try {
        target = Optional.of(imds.targetLifecycleState());
      } catch (RuntimeException e) {
        errors.add("read target lifecycle state: " + e.getMessage());
      }
    }
    if (purchasing != PurchasingOption.ON_DEMAND || --noticePollsLeft <= 0) {
      noticePollsLeft = onDemandNoticePolls;
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
    }
    return new Event.ImdsPolled(
        target,
        rebalance,
        interruption,
        errors.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", errors)));
  }

  /**
   * After a poll has been reported: asks IMDS for the instance's purchasing option when it is not
   * known and a try is due. A failure leaves it unknown (the notices are read at every poll
   * meanwhile) and doubles the polls until the next try.
   */
  void afterPoll() {
    if (purchasing != null || --pollsUntilAsked > 0) {
      return;
    }
    Optional<String> option;
    try {
      option = imds.purchasingOption();
    } catch (RuntimeException e) {
      pollsUntilAsked = askedAfterPolls;
      log.debug(
          "instance-life-cycle not read, spot notices still read at every poll, asked again in"
              + " {} polls: {}",
          pollsUntilAsked,
          e.getMessage());
      askedAfterPolls = Math.min(askedAfterPolls * 2, PURCHASING_OPTION_BACKOFF_MAX);
      return;
    }
    if (option.isPresent() && option.get().equals("on-demand")) {
      purchasing = PurchasingOption.ON_DEMAND;
      log.info(
          "instance-life-cycle=on-demand: spot interruption and rebalance notices read every {} s"
              + " instead of every poll",
          ON_DEMAND_NOTICES_EVERY.toSeconds());
    } else {
      purchasing = PurchasingOption.NOTICES_POSSIBLE;
      log.info(
          "instance-life-cycle={}: polling spot interruption and rebalance notices every {} s",
          option.orElse("(not in IMDS)"),
          every.toSeconds());
    }
  }

  @Override
  public void close() {
    stopped = true;
    LockSupport.unpark(thread);
  }
}
