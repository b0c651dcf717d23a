package dev.drainguard.net;

import java.time.Duration;

/** Pauses between retries; injected so tests do not wait for real. */
@FunctionalInterface
public interface Sleeper {

  /** Sleeps on the calling thread; restores the interrupt flag and returns early if interrupted. */
  Sleeper REAL =
      d -> {
        try {
          Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      };

  Sleeper NONE = d -> {};

  void sleep(Duration duration);
}
