package dev.drainguard.drain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.lifecycle.LifecycleHookRef;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.lifecycle.TerminationHook;
import dev.drainguard.operator.Caller;
import dev.drainguard.queue.DrainedWhen;
import dev.drainguard.queue.QueueSnapshot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Holds kept across a restart: what restore takes up, and what it leaves alone. */
class OperatorRequestsTest {

  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  static final LifecycleHookRef REF =
      new LifecycleHookRef("workers", "hook", "i-0123456789abcdef0");
  static final Caller ALICE = new Caller(1000, "alice");

  @TempDir Path dir;

  DrainState state = state(T0);

  static DrainState state(Instant at) {
    QueueSnapshot empty = new QueueSnapshot(at, List.of(), true);
    TerminationHook hook =
        new TerminationHook(
            "hook", Duration.ofHours(1), Duration.ofHours(48), LifecycleResult.ABANDON);
    Evidence evidence = new Evidence(DrainedWhen.ALL, Duration.ofSeconds(10), Map.of(), empty, at);
    return new DrainState(REF, hook, evidence, at);
  }

  OperatorRequests requests() {
    return new OperatorRequests(state, REF, DeadlinePolicy.EXPIRE);
  }

  @Test
  void aHold_isSaved_andARestartedAgentHoldsAgain_untilReleased() throws IOException {
    HoldStore store = HoldStore.in(dir);
    OperatorRequests first = requests();
    first.restore(store, T0);
    assertThat(first.hold(ALICE, "checking S3", T0).message()).doesNotContain("NOT kept");

    state = state(T0.plusSeconds(60));
    OperatorRequests second = requests();
    second.restore(store, T0.plusSeconds(60));

    assertThat(state.holdReason)
        .isEqualTo("by alice (uid 1000): checking S3 (kept across a restart)");
    assertThat(state.holdSince).isEqualTo(T0); // when it was taken, not when it was restored

    second.release(ALICE, false, "done", T0.plusSeconds(61));
    assertThat(state.holdReason).isNull();
    assertThat(store.load()).isEmpty();
  }

  @Test
  void aHoldFromAnotherInstance_isIgnoredAndForgotten() throws IOException {
    HoldStore store = HoldStore.in(dir);
    store.save(new HoldStore.Saved(ALICE, "r", T0, "i-0fffffffffffffff0"));

    requests().restore(store, T0);

    assertThat(state.holdReason).isNull();
    assertThat(store.load()).isEmpty();
  }

  @Test
  void anUnreadableSavedHold_holds_andSaysWhy() throws IOException {
    Files.writeString(dir.resolve(HoldStore.FILE), "not a hold");

    requests().restore(HoldStore.in(dir), T0);

    assertThat(state.holdReason).startsWith("a saved operator hold could not be read");
  }

  @Test
  void withoutAStore_theHoldSaysItIsNotKept() {
    OperatorRequests r = requests();
    r.restore(HoldStore.NONE, T0);

    assertThat(r.hold(ALICE, null, T0).message())
        .contains("NOT kept across a restart of the agent (no state-directory)");
    assertThat(state.holdReason).isEqualTo("by alice (uid 1000): no reason given");
  }
}
