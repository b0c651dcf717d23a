package dev.drainguard.drain;

import dev.drainguard.drain.Event.CallResult;
import dev.drainguard.drain.Intent.CallKind;
import dev.drainguard.lifecycle.LifecycleActions;
import dev.drainguard.lifecycle.LifecycleHookRef;
import dev.drainguard.lifecycle.LifecycleResult;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out the decision core's intents on threads of their own and reports each outcome back as
 * an event. Every call has a hard deadline: a call that has not answered by then is reported failed
 * (and retried by the core), whatever the thread making it is still doing.
 */
public final class Effects {

  private static final Logger log = LoggerFactory.getLogger(Effects.class);

  /**
   * The longest one Auto Scaling call may take, retries included, before the core is told it
   * failed: the adapter's own retries (3 tries of 4 s, and one more each for a clock or credentials
   * AWS refused) stop trying after 20 s ({@code lifecycle.QueryCalls.CALL_BUDGET}).
   */
  public static final Duration CALL_DEADLINE = Duration.ofSeconds(30);

  /** How the core's confirmation reads are started (the probes' rescan and fresh readings). */
  public interface Confirmer {
    /** Starts the reads; the future completes once every reading has been reported. */
    CompletableFuture<?> confirm();
  }

  private final LifecycleActions api;
  private final CommandRunner commands;
  private final Confirmer confirmer;
  private final ExecutorService calls;
  private final Duration callDeadline;
  private final Consumer<Event> sink;
  private final AtomicInteger outstanding = new AtomicInteger();

  public Effects(
      LifecycleActions api,
      CommandRunner commands,
      Confirmer confirmer,
      ExecutorService calls,
      Duration callDeadline,
      Consumer<Event> sink) {
    this.api = api;
    this.commands = commands;
    this.confirmer = confirmer;
    this.calls = calls;
    this.callDeadline = callDeadline;
    this.sink = sink;
  }

  /** Starts every intent; returns at once. */
  public void execute(List<Intent> intents) {
    for (Intent i : intents) {
      try {
        if (i instanceof Intent.Call c) {
          call(c.kind(), c.ref());
        } else if (i instanceof Intent.RunCommand r) {
          commands
              .start(r.name(), r.command(), r.env(), r.timeout())
              .thenAccept(result -> sink.accept(new Event.CommandEnded(r.name(), result)));
        } else if (i instanceof Intent.Confirm) {
          outstanding.incrementAndGet();
          confirmer.confirm().whenComplete((r, e) -> outstanding.decrementAndGet());
        }
      } catch (RejectedExecutionException e) {
        log.debug("intent after stop not carried out: {}", i);
      }
    }
  }

  /** Calls and confirmations started and not yet reported back; for tests that wait for quiet. */
  public int outstanding() {
    return outstanding.get();
  }

  private void call(CallKind kind, LifecycleHookRef ref) {
    outstanding.incrementAndGet();
    CompletableFuture.supplyAsync(() -> perform(kind, ref), calls)
        .completeOnTimeout(
            new CallResult.Failed(kind + " for " + ref + " did not answer within " + callDeadline),
            callDeadline.toMillis(),
            TimeUnit.MILLISECONDS)
        .exceptionally(e -> new CallResult.Failed(kind + " for " + ref + ": " + e))
        .thenAccept(r -> sink.accept(new Event.CallEnded(kind, r)))
        .whenComplete((r, e) -> outstanding.decrementAndGet());
  }

  /** Makes one call; every failure is an answer of its own, never an exception. */
  CallResult perform(CallKind kind, LifecycleHookRef ref) {
    try {
      return switch (kind) {
        case HEARTBEAT -> new CallResult.Answered(api.heartbeat(ref));
        case CONTINUE -> new CallResult.Answered(api.complete(ref, LifecycleResult.CONTINUE));
        case ABANDON -> new CallResult.Answered(api.complete(ref, LifecycleResult.ABANDON));
        case DESCRIBE_INSTANCE -> new CallResult.Described(api.describeInstance(ref.instanceId()));
        case DESCRIBE_HOOKS -> new CallResult.Hooks(api.terminationHooks(ref.groupName()));
        case TERMINATE -> {
          api.terminateInstance(ref.instanceId());
          yield new CallResult.Done();
        }
        case PROTECT, UNPROTECT -> {
          api.setProtection(ref.groupName(), ref.instanceId(), kind == CallKind.PROTECT);
          yield new CallResult.Done();
        }
      };
    } catch (RuntimeException e) {
      return new CallResult.Failed(e.getMessage() == null ? e.toString() : e.getMessage());
    }
  }
}
