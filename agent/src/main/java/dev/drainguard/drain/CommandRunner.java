package dev.drainguard.drain;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** Runs an operator's shell command at a moment of the drain, in bounded time. */
public interface CommandRunner {

  /**
   * Starts {@code command}; the future completes when it exits or has been killed at {@code
   * timeout}. It never completes exceptionally: a command that cannot start is a failed result.
   */
  CompletableFuture<CommandResult> start(
      String name, String command, Map<String, String> env, Duration timeout);

  /**
   * @param exitCode the process's exit code; -1 when it could not start or was killed
   * @param timedOut true when it was killed at its timeout
   * @param error why it could not start, if it could not
   */
  record CommandResult(int exitCode, boolean timedOut, Duration took, String error) {
    public boolean ok() {
      return exitCode == 0 && !timedOut;
    }
  }
}
