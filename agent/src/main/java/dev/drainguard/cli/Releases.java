package dev.drainguard.cli;

import dev.drainguard.drain.ControlResult;
import dev.drainguard.drain.DrainStatus;
import dev.drainguard.drain.Phase;
import dev.drainguard.lifecycle.LifecycleResult;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * A release is carried out after its answer is given (fresh readings first, then the call): the
 * control socket waits a little for the drain to end so the operator hears what happened.
 */
final class Releases {

  /** How often the status is looked at while waiting; a release takes a second or two. */
  private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  private Releases() {}

  /** Waits up to {@code wait} for the drain to end, and says how it ended if it did. */
  static ControlResult awaitEnd(
      ControlResult accepted, Supplier<DrainStatus> status, Duration wait) {
    long until = System.nanoTime() + wait.toNanos();
    DrainStatus s = status.get();
    while (!s.phase().terminal() && s.releaseRequested() && System.nanoTime() < until) {
      LockSupport.parkNanos(POLL_NANOS);
      s = status.get();
    }
    if (s.phase() != Phase.COMPLETED) {
      if (s.phase().terminal()) {
        return new ControlResult(
            true, "released, but the drain ended " + s.phase() + ": " + s.endReason().orElse(""));
      }
      return s.releaseRequested()
          ? accepted
          : new ControlResult(
              false, "release dropped: " + s.lastError().orElse("data was seen again"));
    }
    long lost = s.bytesAtEnd();
    String what =
        s.result().orElse(null) == LifecycleResult.ABANDON
            ? "terminated: the retained instance was terminated"
                + " (TerminateInstanceInAutoScalingGroup sent)"
            : "completed: CONTINUE sent";
    return new ControlResult(true, what + (lost > 0 ? ", " + lost + " queued bytes lost" : ""));
  }
}
