package dev.drainguard.drain;

import dev.drainguard.imds.SpotNotice;
import dev.drainguard.imds.TargetLifecycleState;
import dev.drainguard.lifecycle.ActionOutcome;
import dev.drainguard.lifecycle.GroupMembership;
import dev.drainguard.lifecycle.TerminationHook;
import dev.drainguard.queue.ProbeReading;
import dev.drainguard.queue.QueueSnapshot;
import java.util.List;
import java.util.Optional;

/**
 * A fact the decision core is told, on its own thread, in the order it arrived. Each reading
 * carries the instant its read started; the core is given the instant of arrival with the event.
 */
public sealed interface Event {

  /**
   * The filesystem watcher's view.
   *
   * @param seq numbers the watcher's snapshots in the order they were taken
   * @param rescan true for a full rescan asked for by {@link Intent.Confirm}: only a rescan that
   *     started after the quiet period ended confirms that the roots are empty
   */
  record FilesRead(QueueSnapshot files, long seq, boolean rescan) implements Event {}

  /**
   * A scheduled probe's reading (command, Cribl API); {@code readAt} is when its read started.
   *
   * @param seq numbers the probe's reads in the order they started
   */
  record ProbeRead(ProbeReading reading, long seq) implements Event {}

  /**
   * One poll of the instance metadata service by its poller.
   *
   * @param target the target lifecycle state, empty when it could not be read
   * @param error why something could not be read
   */
  record ImdsPolled(
      Optional<TargetLifecycleState> target,
      Optional<SpotNotice> rebalance,
      Optional<SpotNotice> interruption,
      Optional<String> error)
      implements Event {

    public static ImdsPolled target(TargetLifecycleState state) {
      return new ImdsPolled(
          Optional.of(state), Optional.empty(), Optional.empty(), Optional.empty());
    }
  }

  /** The answer to a call the core asked for ({@link Intent.Call}). */
  record CallEnded(Intent.CallKind kind, CallResult result) implements Event {}

  /** A command the core started ({@link Intent.RunCommand}) has ended. */
  record CommandEnded(String name, CommandRunner.CommandResult result) implements Event {}

  /** Nothing new arrived: an instant the core asked to be woken at has come. */
  record Wake() implements Event {}

  /** How one call to Auto Scaling ended. */
  sealed interface CallResult {

    /** Heartbeat or complete answered: accepted, or no active lifecycle action. */
    record Answered(ActionOutcome outcome) implements CallResult {}

    /** DescribeAutoScalingInstances answered; empty when the instance is in no group. */
    record Described(Optional<GroupMembership> membership) implements CallResult {}

    /** DescribeLifecycleHooks answered with the group's termination hooks. */
    record Hooks(List<TerminationHook> hooks) implements CallResult {}

    /** A call with nothing to answer (terminate, set protection) succeeded. */
    record Done() implements CallResult {}

    /** No answer: a failure after the adapter's retries, or no answer within the deadline. */
    record Failed(String message) implements CallResult {}
  }
}
