package dev.drainguard.sim;

import dev.drainguard.lifecycle.ActionOutcome;
import dev.drainguard.lifecycle.GroupMembership;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.lifecycle.TerminationHook;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Test-only seam: the simulator's world ({@link SimModel}) without HTTP, for runners that drive the
 * decision core directly and carry out its calls themselves. One group with one termination hook
 * and one instance, plus a second instance so that scale-in has somewhere else to go when the first
 * is protected. The model's clock is the caller's: every call applies the model's timed transitions
 * up to the clock's present first, exactly as the HTTP simulator does.
 *
 * <p>Answers are the ports' own types: "No active Lifecycle Action" is {@link
 * ActionOutcome#NO_ACTIVE_ACTION}; any other error Auto Scaling would answer is thrown as an {@link
 * IllegalStateException} naming the call.
 */
public final class InProcessAutoScaling {

  public static final String GROUP = "workers";
  public static final String HOOK = "hold-queues";
  public static final String INSTANCE = "i-0a1b2c3d4e5f60001";
  static final String OTHER = "i-0a1b2c3d4e5f60002";

  private final SimModel model;

  /**
   * @param heartbeatTimeout the hook's HeartbeatTimeout, 30 s to 7200 s
   * @param defaultResult CONTINUE or ABANDON
   * @param blipAfter with {@code blipLength}: "No active" answered for that long, that long after
   *     each action becomes active (zero length: never)
   */
  public InProcessAutoScaling(
      Clock clock,
      Duration heartbeatTimeout,
      String defaultResult,
      boolean retainOnAbandon,
      Duration deregistrationDelay,
      Duration blipAfter,
      Duration blipLength) {
    model = new SimModel(clock);
    model.addGroup(GROUP);
    model.addInstance(GROUP, INSTANCE, "eu-west-1", false);
    model.addInstance(GROUP, OTHER, "eu-west-1", false);
    model.setImdsInstance(INSTANCE);
    // a spot instance: the plans may send it spot notices
    model.setPurchasingOption(INSTANCE, "spot");
    model.addTerminationHook(GROUP, HOOK, heartbeatTimeout, defaultResult);
    model.setRetainOnTerminateHookAbandon(GROUP, retainOnAbandon);
    model.setDeregistrationDelay(deregistrationDelay);
    model.setActionBlip(blipAfter, blipLength);
  }

  /**
   * Auto Scaling scales in: chooses the first in-service instance not protected from scale-in.
   *
   * @return whether it chose this runner's instance
   */
  public boolean scaleIn() {
    return model.scaleIn(GROUP).filter(INSTANCE::equals).isPresent();
  }

  /** A termination that protection does not stop (health check, instance refresh). */
  public void replace() {
    if (model.lifecycleState(INSTANCE).equals(LifecycleState.IN_SERVICE.wireName())) {
      model.terminate(INSTANCE);
    }
  }

  /** PutLifecycleHook on the running group (a stack update). */
  public void putHook(Duration heartbeatTimeout, String defaultResult) {
    model.putTerminationHook(GROUP, HOOK, heartbeatTimeout, defaultResult);
  }

  public void spotInterruption(Instant time) {
    model.spotInterruption(INSTANCE, "terminate", time);
  }

  public void rebalanceRecommendation(Instant noticeTime) {
    model.rebalanceRecommendation(INSTANCE, noticeTime);
  }

  public ActionOutcome heartbeat() {
    try {
      model.heartbeat(GROUP, HOOK, INSTANCE, null);
      return ActionOutcome.ACCEPTED;
    } catch (ApiError e) {
      return answer("heartbeat", e);
    }
  }

  public ActionOutcome complete(LifecycleResult result) {
    try {
      model.complete(GROUP, HOOK, INSTANCE, null, result.name());
      return ActionOutcome.ACCEPTED;
    } catch (ApiError e) {
      return answer("complete " + result, e);
    }
  }

  private static ActionOutcome answer(String call, ApiError e) {
    if (e.getMessage().startsWith("No active Lifecycle Action")) {
      return ActionOutcome.NO_ACTIVE_ACTION;
    }
    throw new IllegalStateException(call + ": " + e.code() + " " + e.getMessage());
  }

  /** DescribeAutoScalingInstances for this instance; empty once it is terminated. */
  public Optional<GroupMembership> describeInstance() {
    return model.describeInstances(List.of(INSTANCE)).stream()
        .findFirst()
        .map(r -> new GroupMembership(r.groupName(), r.lifecycleState(), r.protectedFromScaleIn()));
  }

  /** DescribeLifecycleHooks of the group, as the adapter reports them. */
  public List<TerminationHook> hooks() {
    return model.describeHooks(GROUP, List.of()).stream()
        .map(
            h ->
                new TerminationHook(
                    h.name(),
                    h.heartbeatTimeout(),
                    h.globalTimeout(),
                    LifecycleResult.valueOf(h.defaultResult())))
        .toList();
  }

  /** TerminateInstanceInAutoScalingGroup on this instance, keeping desired capacity. */
  public void terminateInGroup() {
    try {
      model.terminateInGroup(INSTANCE, "false");
    } catch (ApiError e) {
      throw new IllegalStateException("terminate: " + e.code() + " " + e.getMessage());
    }
  }

  public void setProtection(boolean value) {
    try {
      model.setProtection(GROUP, List.of(INSTANCE), Boolean.toString(value));
    } catch (ApiError e) {
      throw new IllegalStateException("set protection: " + e.code() + " " + e.getMessage());
    }
  }

  public boolean isProtected() {
    return model.isProtected(INSTANCE);
  }

  /** The lifecycle state's wire name ({@code InService}, {@code Terminating:Wait}, …). */
  public String lifecycleState() {
    return model.lifecycleState(INSTANCE);
  }

  /** What IMDS reads for target-lifecycle-state: {@code InService} or {@code Terminated}. */
  public String targetLifecycleState() {
    return model.imdsView().orElseThrow().targetLifecycleState();
  }

  /** The spot interruption notice time IMDS shows, if any. */
  public Optional<Instant> spotInterruptionTime() {
    return model.imdsView().orElseThrow().spotAction().map(SpotAction::time);
  }

  public Optional<Instant> rebalanceNoticeTime() {
    return model.imdsView().orElseThrow().rebalanceNoticeTime();
  }

  /** How the action ended: when, by what (completed, heartbeat or global timeout), with what. */
  public Optional<ActionEnd> actionEnd() {
    return model.actionEnd(INSTANCE);
  }

  public Optional<Instant> terminatedAt() {
    return model.terminatedAt(INSTANCE);
  }
}
