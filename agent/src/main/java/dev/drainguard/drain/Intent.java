package dev.drainguard.drain;

import dev.drainguard.lifecycle.LifecycleHookRef;
import java.time.Duration;
import java.util.Map;

/**
 * What the decision core asks to be done; executors do it and report back with an {@link Event}.
 */
public sealed interface Intent {

  /** The Auto Scaling calls the core makes, each answered by {@link Event.CallEnded}. */
  enum CallKind {
    HEARTBEAT,
    CONTINUE,
    ABANDON,
    DESCRIBE_INSTANCE,
    DESCRIBE_HOOKS,
    TERMINATE,
    PROTECT,
    UNPROTECT;

    /**
     * Calls that share one slot: at most one of them is in flight. Heartbeats and protection
     * changes have slots of their own, so that a slow complete never delays a heartbeat.
     */
    public Slot slot() {
      return switch (this) {
        case HEARTBEAT -> Slot.HEARTBEAT;
        case PROTECT, UNPROTECT -> Slot.PROTECTION;
        case CONTINUE, ABANDON, DESCRIBE_INSTANCE, DESCRIBE_HOOKS, TERMINATE -> Slot.ACTION;
      };
    }
  }

  /** The slots calls are made in; see {@link CallKind#slot()}. */
  enum Slot {
    HEARTBEAT,
    ACTION,
    PROTECTION
  }

  /** Make one Auto Scaling call for this instance, under the hook the core holds it by. */
  record Call(CallKind kind, LifecycleHookRef ref) implements Intent {}

  /** Run an operator's command; its end comes back as {@link Event.CommandEnded}. */
  record RunCommand(String name, String command, Map<String, String> env, Duration timeout)
      implements Intent {
    public RunCommand {
      env = Map.copyOf(env);
    }
  }

  /**
   * Confirm the queues are empty: a full rescan of every files root and a fresh reading of every
   * scheduled probe, each coming back as its own event.
   */
  record Confirm() implements Intent {}
}
