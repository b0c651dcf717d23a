package dev.drainguard.drain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.drain.Event.CallResult;
import dev.drainguard.drain.Intent.CallKind;
import dev.drainguard.imds.TargetLifecycleState;
import dev.drainguard.lifecycle.ActionOutcome;
import dev.drainguard.lifecycle.GroupMembership;
import dev.drainguard.lifecycle.LifecycleHookRef;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.lifecycle.TerminationHook;
import dev.drainguard.queue.DrainedWhen;
import dev.drainguard.queue.QueueSnapshot;
import dev.drainguard.queue.RootStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The core bugs the decision-core scenario runner ({@code scenario.core.CoreScenariosTest}) found,
 * each reproduced by hand on the step function: events in, intents out, on a clock this test moves.
 * Each test names the seed that first showed it.
 */
class ScenarioFindingsTest {

  static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");
  static final LifecycleHookRef REF = new LifecycleHookRef("asg", "hold", "i-1");
  static final TerminationHook HOOK =
      new TerminationHook(
          "hold", Duration.ofMinutes(60), Duration.ofMinutes(6000), LifecycleResult.ABANDON);

  private Instant now = T0;
  private long seq;
  private DrainController c;

  private DrainController controller(DeadlinePolicy policy, Optional<Duration> maxHold) {
    DrainSettings s =
        new DrainSettings(
            Duration.ofSeconds(10),
            Duration.ofHours(2),
            Duration.ofMinutes(15),
            policy,
            Duration.ofMinutes(5),
            maxHold,
            Duration.ofSeconds(5),
            Optional.empty(),
            Duration.ofMinutes(1),
            Optional.empty(),
            ProtectionSettings.OFF);
    c =
        new DrainController(
            s,
            REF,
            HOOK,
            DrainedWhen.ALL,
            Map.of(),
            files(0),
            now,
            Duration.ofSeconds(15),
            x -> {});
    return c;
  }

  private QueueSnapshot files(long bytes) {
    RootStatus r =
        new RootStatus(Path.of("/q"), bytes > 0 ? 1 : 0, bytes, Optional.empty(), Optional.empty());
    return new QueueSnapshot(now, List.of(r), bytes == 0);
  }

  private List<Intent> step(Event e) {
    return c.step(e, now);
  }

  private List<Intent> after(Duration d, Event e) {
    now = now.plus(d);
    return step(e);
  }

  private List<Intent> filesRead(long bytes, boolean rescan) {
    return step(new Event.FilesRead(files(bytes), ++seq, rescan));
  }

  private static Event answered(CallKind k, ActionOutcome o) {
    return new Event.CallEnded(k, new CallResult.Answered(o));
  }

  private static Event described(CallKind k, String lifecycleState) {
    return new Event.CallEnded(
        k, new CallResult.Described(Optional.of(new GroupMembership("asg", lifecycleState))));
  }

  /** The call intent of {@code k} for this test's instance. */
  private static Intent call(CallKind k) {
    return new Intent.Call(k, REF);
  }

  private static boolean asks(List<Intent> out, CallKind k) {
    return out.stream().anyMatch(i -> i instanceof Intent.Call c && c.kind() == k);
  }

  /**
   * Steps {@code e}, then answers every call it leads to with {@code answer} (null: leave it in
   * flight), and the calls those answers lead to; returns every intent asked for on the way.
   */
  private List<Intent> respond(Event e, Function<CallKind, Event> answer) {
    List<Intent> all = new ArrayList<>();
    Deque<Event> todo = new ArrayDeque<>(List.of(e));
    for (int n = 0; !todo.isEmpty() && n < 100; n++) {
      for (Intent i : step(todo.poll())) {
        all.add(i);
        if (i instanceof Intent.Call call && answer.apply(call.kind()) != null) {
          todo.add(answer.apply(call.kind()));
        }
      }
    }
    return all;
  }

  /** Notices the termination with {@code bytes} queued; the action not active yet. */
  private void noticed(long bytes) {
    filesRead(bytes, false);
    List<Intent> out = step(Event.ImdsPolled.target(TargetLifecycleState.TERMINATED));
    assertThat(out).contains(call(CallKind.HEARTBEAT));
    assertThat(out).contains(call(CallKind.DESCRIBE_HOOKS));
    step(new Event.CallEnded(CallKind.DESCRIBE_HOOKS, new CallResult.Hooks(List.of(HOOK))));
  }

  /** Noticed, the first heartbeat accepted, the hook read again: HOLDING. */
  private void holding(long bytes) {
    noticed(bytes);
    List<Intent> out = step(answered(CallKind.HEARTBEAT, ActionOutcome.ACCEPTED));
    assertThat(out).contains(call(CallKind.DESCRIBE_HOOKS));
    step(new Event.CallEnded(CallKind.DESCRIBE_HOOKS, new CallResult.Hooks(List.of(HOOK))));
    assertThat(c.status().phase()).isEqualTo(Phase.HOLDING);
  }

  @Test
  void aHeartbeatAnsweredAfterTheCompleteWasAccepted_leavesItCompleted() {
    // seed 13000108: "No active" for a heartbeat in flight during CONTINUE asked Describe, which
    // found the instance gone and turned COMPLETED into LOST (an ERROR after a clean drain).
    controller(DeadlinePolicy.EXPIRE, Optional.empty());
    holding(4096);
    after(Duration.ofSeconds(1), new Event.FilesRead(files(0), ++seq, false));
    List<Intent> confirm = after(Duration.ofSeconds(11), new Event.Wake());
    assertThat(confirm).contains(new Intent.Confirm());
    List<Intent> out = filesRead(0, true);
    assertThat(asks(out, CallKind.CONTINUE)).isTrue();
    List<Intent> beat = after(HOOK.heartbeatTimeout(), new Event.Wake()); // CONTINUE still out
    assertThat(asks(beat, CallKind.HEARTBEAT)).isTrue();
    step(answered(CallKind.CONTINUE, ActionOutcome.ACCEPTED));
    assertThat(c.status().phase()).isEqualTo(Phase.COMPLETED);

    assertThat(step(answered(CallKind.HEARTBEAT, ActionOutcome.NO_ACTIVE_ACTION))).isEmpty();
    assertThat(c.status().phase()).isEqualTo(Phase.COMPLETED);
  }

  @Test
  void anAbandonBeforeTheActionIsActive_isAskedAgainNotDeclaredLost() {
    // seed 13000238: max-hold 78 s, deregistration 2800 s, policy retain: ABANDON answered "No
    // active" was taken as retained, and two minutes of Terminating made it LOST.
    controller(DeadlinePolicy.RETAIN, Optional.of(Duration.ofMinutes(1)));
    noticed(4096);
    Function<CallKind, Event> deregistering =
        k ->
            k == CallKind.DESCRIBE_INSTANCE
                ? described(k, "Terminating")
                : answered(k, ActionOutcome.NO_ACTIVE_ACTION);
    respond(answered(CallKind.HEARTBEAT, ActionOutcome.NO_ACTIVE_ACTION), deregistering);
    long abandons = 0;
    for (int i = 0; i < 240; i++) { // four minutes of deregistration after max-hold
      now = now.plusSeconds(1);
      abandons +=
          respond(new Event.Wake(), deregistering).stream()
              .filter(x -> x.equals(call(CallKind.ABANDON)))
              .count();
    }
    assertThat(abandons).isGreaterThan(10);
    assertThat(c.status().phase()).isEqualTo(Phase.AWAITING_ACTION);
    Function<CallKind, Event> active =
        k ->
            k == CallKind.DESCRIBE_INSTANCE
                ? described(k, "Terminating:Retained")
                : answered(k, ActionOutcome.ACCEPTED);
    for (int i = 0; i < 10; i++) {
      now = now.plusSeconds(1);
      respond(new Event.Wake(), active);
    }
    assertThat(c.status().phase()).isEqualTo(Phase.RETAINED);
  }

  @Test
  void aHoldAfterARelease_withdrawsTheRelease() {
    // seed 13000456: release --force while the instance deregistered, then hold (accepted:
    // "the action stays open"); CONTINUE went out once the action became active.
    controller(DeadlinePolicy.EXPIRE, Optional.empty());
    noticed(4096);
    Function<CallKind, Event> deregistering =
        k ->
            k == CallKind.DESCRIBE_INSTANCE
                ? described(k, "Terminating")
                : answered(k, ActionOutcome.NO_ACTIVE_ACTION);
    respond(answered(CallKind.HEARTBEAT, ActionOutcome.NO_ACTIVE_ACTION), deregistering);
    assertThat(c.release(true, "retire", now).accepted()).isTrue();
    now = now.plusSeconds(5);
    assertThat(respond(new Event.Wake(), deregistering)).contains(call(CallKind.CONTINUE));
    assertThat(c.hold("keep it", now).accepted()).isTrue();
    Function<CallKind, Event> active =
        k ->
            k == CallKind.DESCRIBE_INSTANCE
                ? described(k, "Terminating:Wait")
                : k == CallKind.DESCRIBE_HOOKS
                    ? new Event.CallEnded(k, new CallResult.Hooks(List.of(HOOK)))
                    : answered(k, ActionOutcome.ACCEPTED);
    for (int i = 0; i < 60; i++) {
      now = now.plusSeconds(1);
      assertThat(respond(new Event.Wake(), active)).doesNotContain(call(CallKind.CONTINUE));
    }
    assertThat(c.status().phase()).isEqualTo(Phase.HOLDING);
  }

  @Test
  void whileDataIsQueued_theCoreDoesNotWakeEveryQuietPeriod() {
    // Found by the runner's step count: with data queued, every step asked to be woken one quiet
    // period later (quiet-period 1ms: a thousand wake-ups a second for the whole hold).
    controller(DeadlinePolicy.EXPIRE, Optional.empty());
    holding(4096);
    Instant heartbeat = now.plus(HOOK.heartbeatTimeout().dividedBy(3));
    assertThat(c.nextWake(now)).contains(heartbeat);
    after(Duration.ofSeconds(1), new Event.Wake());
    assertThat(c.nextWake(now)).contains(heartbeat);
  }

  @Test
  void aFailedTerminate_isAskedAgainOnlyIfTheQueuesAreStillEmpty() {
    // seed 13002256: TERMINATE of the retained instance failed, data came back, and the retry
    // went out anyway: the retry did not check the queues again.
    controller(DeadlinePolicy.RETAIN, Optional.of(Duration.ofMinutes(1)));
    holding(4096);
    List<Intent> out = after(Duration.ofSeconds(61), new Event.Wake());
    assertThat(asks(out, CallKind.ABANDON)).isTrue();
    step(answered(CallKind.ABANDON, ActionOutcome.ACCEPTED));
    step(described(CallKind.DESCRIBE_INSTANCE, "Terminating:Retained"));
    assertThat(c.status().phase()).isEqualTo(Phase.RETAINED);
    after(Duration.ofSeconds(1), new Event.FilesRead(files(0), ++seq, false));
    assertThat(after(Duration.ofSeconds(11), new Event.Wake())).contains(new Intent.Confirm());
    assertThat(asks(filesRead(0, true), CallKind.TERMINATE)).isTrue();
    step(new Event.CallEnded(CallKind.TERMINATE, new CallResult.Failed("Throttling")));
    after(Duration.ofSeconds(1), new Event.FilesRead(files(8192), ++seq, false));
    for (int i = 0; i < 10; i++) {
      assertThat(asks(after(Duration.ofSeconds(5), new Event.Wake()), CallKind.TERMINATE))
          .isFalse();
    }
  }

  @Test
  void aHeartbeatAnsweredAfterTheInstanceWasRetained_asksNothing() {
    // seed 13000331: a heartbeat sent before ABANDON came back "No active" and asked Describe.
    controller(DeadlinePolicy.RETAIN, Optional.of(Duration.ofMinutes(1)));
    holding(4096);
    List<Intent> out = after(Duration.ofMinutes(20), new Event.Wake());
    assertThat(asks(out, CallKind.ABANDON)).isTrue();
    assertThat(asks(out, CallKind.HEARTBEAT)).isTrue();
    step(answered(CallKind.ABANDON, ActionOutcome.ACCEPTED));
    step(described(CallKind.DESCRIBE_INSTANCE, "Terminating:Retained"));
    assertThat(step(answered(CallKind.HEARTBEAT, ActionOutcome.NO_ACTIVE_ACTION))).isEmpty();
  }
}
