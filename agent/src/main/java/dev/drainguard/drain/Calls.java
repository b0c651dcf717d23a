package dev.drainguard.drain;

import dev.drainguard.drain.Intent.CallKind;
import dev.drainguard.drain.Intent.Slot;
import dev.drainguard.lifecycle.LifecycleHookRef;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The Auto Scaling calls in flight, one per {@link Slot}, and when each kind of call may be made
 * again after a failure. A call is asked for as an intent and ends with its {@link
 * Event.CallEnded}: the core never waits for one.
 */
final class Calls {

  private record InFlight(CallKind kind, Instant sentAt) {}

  private final Supplier<LifecycleHookRef> ref;
  private final Map<Slot, InFlight> inFlight = new EnumMap<>(Slot.class);
  private final Map<CallKind, Instant> notBefore = new EnumMap<>(CallKind.class);

  /**
   * @param ref the hook and instance each call is made for, as the core knows it when it asks
   */
  Calls(Supplier<LifecycleHookRef> ref) {
    this.ref = ref;
  }

  /** Whether a call of {@code kind} may start at {@code now}: its slot is free and cooled down. */
  boolean ready(CallKind kind, Instant now) {
    Slot s = kind.slot();
    return !inFlight.containsKey(s) && !now.isBefore(notBefore.getOrDefault(kind, Instant.MIN));
  }

  /** Starts a call when {@link #ready}; returns whether it did. */
  boolean start(CallKind kind, Instant now, List<Intent> out) {
    if (!ready(kind, now)) {
      return false;
    }
    inFlight.put(kind.slot(), new InFlight(kind, now));
    out.add(new Intent.Call(kind, ref.get()));
    return true;
  }

  /** Whether a call of {@code kind} is in flight. */
  boolean inFlight(CallKind kind) {
    InFlight f = inFlight.get(kind.slot());
    return f != null && f.kind() == kind;
  }

  /** The call of {@code kind} has ended: frees its slot and says when it was sent. */
  Optional<Instant> ended(CallKind kind) {
    InFlight f = inFlight.get(kind.slot());
    if (f == null || f.kind() != kind) {
      return Optional.empty();
    }
    inFlight.remove(kind.slot());
    return Optional.of(f.sentAt());
  }

  /**
   * No call of {@code kind} before {@code when}; other kinds of its slot are not held back (a
   * complete that waits out a back-off must not hold up the describe that explains it).
   */
  void coolDown(CallKind kind, Instant when) {
    notBefore.put(kind, when);
  }

  /**
   * When {@code kind}'s slot may next be used, if it is free but cooling down after {@code now}.
   */
  Optional<Instant> cooledAt(CallKind kind, Instant now) {
    Instant t = notBefore.get(kind);
    return t != null && t.isAfter(now) && !inFlight.containsKey(kind.slot())
        ? Optional.of(t)
        : Optional.empty();
  }
}
