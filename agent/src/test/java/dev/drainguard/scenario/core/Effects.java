package dev.drainguard.scenario.core;

import dev.drainguard.drain.CommandRunner.CommandResult;
import dev.drainguard.drain.Event;
import dev.drainguard.drain.Event.CallResult;
import dev.drainguard.drain.Intent;
import dev.drainguard.drain.Intent.CallKind;
import dev.drainguard.drain.Intent.Slot;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.scenario.core.Plan.Fault;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/**
 * Carries out one incarnation's intents against the model, as drain.Effects does against AWS: each
 * Auto Scaling call takes effect at one instant (or never reaches AWS) and is answered at a later
 * one, at most {@code max-latency} after it was sent; commands end after their duration. Invariant
 * (d) is checked here, live: the core must not ask for a call while one of the same slot is in
 * flight.
 */
final class Effects {

  /** What the on-termination command takes. */
  static final long EVENT_COMMAND_MS = 100;

  /** How long the data a before-complete command writes stays queued. */
  static final long FLUSH_LIFE_MS = 2_000;

  private final CoreRunner r;
  private final CoreRunner.Agent a;
  private final Map<Slot, CallKind> inFlight = new EnumMap<>(Slot.class);
  private long calls;

  Effects(CoreRunner r, CoreRunner.Agent a) {
    this.r = r;
    this.a = a;
  }

  void execute(Intent i) {
    if (i instanceof Intent.Call c) {
      call(c.kind());
    } else if (i instanceof Intent.Confirm) {
      a.sources.confirm();
    } else if (i instanceof Intent.RunCommand c) {
      command(c);
    }
  }

  private void call(CallKind kind) {
    long sent = r.now();
    CallKind busy = inFlight.get(kind.slot());
    if (busy != null) {
      r.tl.problems.add(
          String.format(
              "(d) incarnation %d asked for %s at +%dms while %s (slot %s) was in flight",
              a.id, kind, sent, busy, kind.slot()));
    }
    inFlight.put(kind.slot(), kind);
    long n = a.id * 1_000_003L + calls++;
    long max = r.p.maxLatency().toMillis();
    double u = r.draw("latency", n);
    // Most calls answer fast; some take up to the maximum (the adapter's retries, a slow API).
    long latency = u < 0.7 ? (long) (u / 0.7 * Math.min(200, max)) : (long) ((u - 0.7) / 0.3 * max);
    long applyAt = sent + (long) (r.draw("apply", n) * latency);
    CallResult[] told = new CallResult[1];
    String[] real = {"never reached Auto Scaling"};
    long[] appliedAt = {-1};
    r.at(
        applyAt,
        () -> {
          long t = r.now();
          String refused = refusal(kind, t);
          if (refused != null) {
            told[0] = new CallResult.Failed(kind + ": " + refused + " (injected)");
            real[0] = "refused: " + refused;
            return;
          }
          CallResult result = perform(kind);
          appliedAt[0] = t;
          r.checkTerminated();
          real[0] = describe(result);
          if (r.window(Fault.ANSWERS_LOST, t).isPresent()) {
            result = new CallResult.Failed(kind + ": no answer within the timeout (injected)");
          }
          told[0] = result;
        });
    r.at(
        sent + latency,
        () -> {
          if (inFlight.get(kind.slot()) == kind) {
            inFlight.remove(kind.slot());
          }
          r.tl.calls.add(
              new Timeline.Call(
                  a.id, kind, sent, appliedAt[0], r.now(), real[0], describe(told[0])));
          a.deliver(new Event.CallEnded(kind, told[0]));
        });
  }

  /** Why the plan's faults refuse {@code kind} at {@code t}; null when they do not. */
  private String refusal(CallKind kind, long t) {
    if (r.window(Fault.API_DOWN, t).isPresent()) {
      return "HTTP 503 ServiceUnavailable";
    }
    boolean heartbeat = kind == CallKind.HEARTBEAT;
    boolean completes =
        kind == CallKind.CONTINUE || kind == CallKind.ABANDON || kind == CallKind.TERMINATE;
    boolean describes = kind == CallKind.DESCRIBE_INSTANCE || kind == CallKind.DESCRIBE_HOOKS;
    if (heartbeat && r.window(Fault.HEARTBEAT_FAILS, t).isPresent()
        || completes && r.window(Fault.COMPLETE_FAILS, t).isPresent()
        || describes && r.window(Fault.DESCRIBE_THROTTLED, t).isPresent()) {
      return "HTTP 400 Throttling: Rate exceeded";
    }
    return null;
  }

  private CallResult perform(CallKind kind) {
    try {
      return switch (kind) {
        case HEARTBEAT -> new CallResult.Answered(r.aws.heartbeat());
        case CONTINUE -> new CallResult.Answered(r.aws.complete(LifecycleResult.CONTINUE));
        case ABANDON -> new CallResult.Answered(r.aws.complete(LifecycleResult.ABANDON));
        case DESCRIBE_INSTANCE -> new CallResult.Described(r.aws.describeInstance());
        case DESCRIBE_HOOKS -> new CallResult.Hooks(r.aws.hooks());
        case TERMINATE -> {
          r.aws.terminateInGroup();
          yield new CallResult.Done();
        }
        case PROTECT, UNPROTECT -> {
          r.aws.setProtection(kind == CallKind.PROTECT);
          yield new CallResult.Done();
        }
      };
    } catch (IllegalStateException e) {
      return new CallResult.Failed(e.getMessage());
    }
  }

  static String describe(CallResult c) {
    if (c instanceof CallResult.Answered x) {
      return x.outcome().name();
    }
    if (c instanceof CallResult.Described d) {
      return "described " + d.membership().map(m -> m.lifecycleState()).orElse("(not in group)");
    }
    if (c instanceof CallResult.Hooks h) {
      return "hooks "
          + h.hooks().stream().map(x -> x.heartbeatTimeout().toSeconds() + "s").toList();
    }
    if (c instanceof CallResult.Failed f) {
      return "failed: " + f.message();
    }
    return "done";
  }

  private void command(Intent.RunCommand c) {
    long t = r.now();
    if (!c.name().equals("before-complete")) {
      CommandResult ok = new CommandResult(0, false, Duration.ofMillis(EVENT_COMMAND_MS), null);
      r.at(t + EVENT_COMMAND_MS, () -> a.deliver(new Event.CommandEnded(c.name(), ok)));
      return;
    }
    int exit = r.p.beforeCompleteExit();
    long d =
        exit == -1
            ? r.p.commandTimeout().toMillis()
            : r.p.beforeComplete().orElse(Duration.ZERO).toMillis();
    long wrote = r.p.beforeCompleteWrites();
    if (wrote > 0) {
      for (String s : r.p.sources()) {
        r.add(t + Math.max(0, d - 1), s, wrote, FLUSH_LIFE_MS, false, true);
      }
    }
    CommandResult result =
        new CommandResult(exit == -1 ? -1 : exit, exit == -1, Duration.ofMillis(d), null);
    r.at(t + d, () -> a.deliver(new Event.CommandEnded(c.name(), result)));
  }
}
