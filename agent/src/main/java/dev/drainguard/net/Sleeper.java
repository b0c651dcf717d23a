package dev.drainguard.net;

import java.time.Duration;

/**
 * Pauses between retries; injected so tests do not wait for real. The real one is chosen by the
 * composition root ({@code cli.ThreadSleeper}).
 */
@FunctionalInterface
public interface Sleeper {

  Sleeper NONE = d -> {};

  void sleep(Duration duration);
}
