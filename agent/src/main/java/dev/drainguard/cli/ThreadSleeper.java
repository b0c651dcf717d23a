package dev.drainguard.cli;

import dev.drainguard.net.Sleeper;
import java.time.Duration;

/**
 * The real {@link Sleeper}, chosen here in the composition root (as the real clock is), so that no
 * domain code sleeps on its own.
 */
final class ThreadSleeper implements Sleeper {

  static final ThreadSleeper INSTANCE = new ThreadSleeper();

  private ThreadSleeper() {}

  /** Sleeps on the calling thread; restores the interrupt flag and returns early if interrupted. */
  @Override
  public void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
