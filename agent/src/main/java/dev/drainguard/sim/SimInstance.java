package dev.drainguard.sim;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One simulated EC2 instance and its Auto Scaling lifecycle, as an explicit state machine.
 *
 * <p>Time only moves through {@link #advance(Instant)}: every timed transition happens at the
 * instant it was due, however late it is observed. Callers hold the model's lock.
 */
final class SimInstance {

  private static final Logger log = LoggerFactory.getLogger(SimInstance.class);

  static final String CONTINUE = "CONTINUE";
  static final String ABANDON = "ABANDON";

  /** Time spent in Terminating:Proceed: the simulator does not model the instance shutting down. */
  static final Duration PROCEED_DURATION = Duration.ZERO;

  private final String id;
  private final SimGroup group;
  private final String region;
  private final boolean metadataTagsEnabled;

  private LifecycleState state = LifecycleState.IN_SERVICE;
  private Instant stateSince;
  private Duration deregistrationDelay = Duration.ZERO;
  private SimHook hook;
  private String actionToken;
  private Instant heartbeatDeadline;
  private Instant globalDeadline;
  private ActionEnd actionEnd;
  private Instant terminatedAt;
  private Termination termination;
  private boolean protectedFromScaleIn;
  private SpotAction spotAction;
  private Instant rebalanceNoticeTime;
  private String purchasingOption = "on-demand";

  /**
   * @param group the instance's group, {@code null} for an instance in no group
   */
  SimInstance(String id, SimGroup group, String region, boolean metadataTagsEnabled) {
    this.id = id;
    this.group = group;
    this.region = region;
    this.metadataTagsEnabled = metadataTagsEnabled;
  }

  String id() {
    return id;
  }

  Optional<SimGroup> group() {
    return Optional.ofNullable(group);
  }

  String region() {
    return region;
  }

  boolean metadataTagsEnabled() {
    return metadataTagsEnabled;
  }

  LifecycleState state() {
    return state;
  }

  /**
   * What IMDS {@code autoscaling/target-lifecycle-state} reads: the state being moved to. A
   * retained instance ({@code Terminating:Retained}) still reads {@code Terminated}: it is on its
   * way there, only paused, and AWS documents no other target state for it; the agent learns of the
   * retention from DescribeAutoScalingInstances, not from IMDS.
   */
  String targetLifecycleState() {
    return state == LifecycleState.IN_SERVICE ? "InService" : "Terminated";
  }

  Optional<ActionEnd> actionEnd() {
    return Optional.ofNullable(actionEnd);
  }

  /** When the instance reached {@code Terminated}; empty before. */
  Optional<Instant> terminatedAt() {
    return Optional.ofNullable(terminatedAt);
  }

  /** The TerminateInstanceInAutoScalingGroup request accepted for it; empty before. */
  Optional<Termination> termination() {
    return Optional.ofNullable(termination);
  }

  boolean protectedFromScaleIn() {
    return protectedFromScaleIn;
  }

  void setProtectedFromScaleIn(boolean value) {
    protectedFromScaleIn = value;
  }

  /** IMDS {@code instance-life-cycle}: {@code on-demand} unless made otherwise. */
  String purchasingOption() {
    return purchasingOption;
  }

  void setPurchasingOption(String option) {
    if (option.isBlank()) {
      throw new IllegalArgumentException("purchasing option must not be blank: instance=" + id);
    }
    purchasingOption = option;
  }

  /** As AWS: spot notices come only to spot instances (an on-demand one is a test's mistake). */
  private void requireSpot() {
    if (purchasingOption.equals("on-demand")) {
      throw new IllegalStateException(
          "instance "
              + id
              + " is on-demand, and no spot notice comes to one: make it spot first"
              + " (Simulator.setPurchasingOption)");
    }
  }

  Optional<SpotAction> spotAction() {
    return Optional.ofNullable(spotAction);
  }

  void setSpotAction(SpotAction notice) {
    requireSpot();
    spotAction = notice;
  }

  Optional<Instant> rebalanceNoticeTime() {
    return Optional.ofNullable(rebalanceNoticeTime);
  }

  void setRebalanceNoticeTime(Instant noticeTime) {
    requireSpot();
    rebalanceNoticeTime = noticeTime;
  }

  /** True while the termination action is active (heartbeat and complete are accepted). */
  boolean actionActive() {
    return state == LifecycleState.TERMINATING_WAIT;
  }

  /** When the termination action became active; empty while it is not active. */
  Optional<Instant> actionActiveSince() {
    return actionActive() ? Optional.of(stateSince) : Optional.empty();
  }

  /** The hook whose action is active, when {@link #actionActive()}. */
  SimHook activeHook() {
    return hook;
  }

  String actionToken() {
    return actionToken;
  }

  /** Starts scale-in: the load balancer deregisters the instance for {@code delay}. */
  void terminate(Instant now, Duration delay) {
    if (group == null) {
      throw new IllegalStateException("instance=" + id + " is in no group: nothing to scale in");
    }
    if (state != LifecycleState.IN_SERVICE) {
      throw new IllegalStateException(
          "instance=" + id + " is " + state.wireName() + ", not InService");
    }
    deregistrationDelay = delay;
    enter(LifecycleState.TERMINATING, now);
  }

  /**
   * TerminateInstanceInAutoScalingGroup: a retained instance is terminated now; an InService one
   * starts a termination like {@link #terminate(Instant, Duration)}; one already terminating goes
   * on as it was (the request changes nothing but is accepted).
   */
  void terminateInGroup(Instant now, Duration delay, boolean shouldDecrementDesiredCapacity) {
    if (state == LifecycleState.TERMINATED) {
      throw new IllegalStateException("instance=" + id + " is already Terminated");
    }
    termination = new Termination(now, shouldDecrementDesiredCapacity);
    switch (state) {
      case TERMINATING_RETAINED -> enter(LifecycleState.TERMINATED, now);
      case IN_SERVICE -> terminate(now, delay);
      default -> {
        // Terminating, Terminating:Wait or Terminating:Proceed: already on its way.
      }
    }
  }

  /** Applies every transition that was due at or before {@code now}, each at its own instant. */
  void advance(Instant now) {
    for (Instant due = nextTransitionAt(); due != null && !now.isBefore(due); ) {
      step(due);
      due = nextTransitionAt();
    }
  }

  /** RecordLifecycleActionHeartbeat: restarts the heartbeat timeout, never past the global one. */
  void heartbeat(Instant now) {
    requireActive();
    Instant next = now.plus(hook.heartbeatTimeout());
    heartbeatDeadline = next.isAfter(globalDeadline) ? globalDeadline : next;
    log.debug(
        "lifecycle heartbeat instance={} hook={} heartbeatDeadline={}",
        id,
        hook.name(),
        heartbeatDeadline);
  }

  /** CompleteLifecycleAction: ends the action now with {@code result}. */
  void complete(Instant now, String result) {
    requireActive();
    endAction(now, ActionEnd.Kind.COMPLETED, result);
  }

  /**
   * The state an ended action leads to. This is where instance retention goes: with a group policy
   * {@code TerminateHookAbandon=retain}, ABANDON leads to {@code Terminating:Retained}.
   */
  LifecycleState stateAfterAction(String result) {
    boolean retains = group != null && group.retainOnTerminateHookAbandon();
    return retains && ABANDON.equals(result)
        ? LifecycleState.TERMINATING_RETAINED
        : LifecycleState.TERMINATING_PROCEED;
  }

  private Instant nextTransitionAt() {
    return switch (state) {
      case IN_SERVICE, TERMINATING_RETAINED, TERMINATED -> null;
      case TERMINATING -> stateSince.plus(deregistrationDelay);
      case TERMINATING_WAIT ->
          heartbeatDeadline.isBefore(globalDeadline) ? heartbeatDeadline : globalDeadline;
      case TERMINATING_PROCEED -> stateSince.plus(PROCEED_DURATION);
    };
  }

  private void step(Instant at) {
    switch (state) {
      case TERMINATING ->
          group
              .terminationHook()
              .ifPresentOrElse(h -> enterWait(at, h), () -> enter(LifecycleState.TERMINATED, at));
      case TERMINATING_WAIT -> {
        ActionEnd.Kind kind =
            heartbeatDeadline.isBefore(globalDeadline)
                ? ActionEnd.Kind.HEARTBEAT_TIMEOUT
                : ActionEnd.Kind.GLOBAL_TIMEOUT;
        endAction(at, kind, hook.defaultResult());
      }
      case TERMINATING_PROCEED -> enter(LifecycleState.TERMINATED, at);
      default -> throw new IllegalStateException("no timed transition from " + state);
    }
  }

  private void enterWait(Instant at, SimHook waitHook) {
    hook = waitHook;
    actionToken = UUID.randomUUID().toString();
    heartbeatDeadline = at.plus(waitHook.heartbeatTimeout());
    globalDeadline = at.plus(waitHook.globalTimeout());
    enter(LifecycleState.TERMINATING_WAIT, at);
  }

  private void endAction(Instant at, ActionEnd.Kind kind, String result) {
    actionEnd = new ActionEnd(at, kind, result);
    log.debug(
        "lifecycle action ended instance={} hook={} kind={} result={} at={}",
        id,
        hook.name(),
        kind,
        result,
        at);
    enter(stateAfterAction(result), at);
  }

  private void enter(LifecycleState next, Instant at) {
    log.debug(
        "lifecycle transition instance={} from={} to={} at={}",
        id,
        state.wireName(),
        next.wireName(),
        at);
    state = next;
    stateSince = at;
    if (next == LifecycleState.TERMINATED) {
      terminatedAt = at;
    }
  }

  private void requireActive() {
    if (!actionActive()) {
      throw ApiError.noActiveAction(id);
    }
  }
}
