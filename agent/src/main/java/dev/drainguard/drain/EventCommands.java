package dev.drainguard.drain;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The operator's {@code on-termination-command}, run once per event (a termination noticed, a spot
 * interruption, a rebalance recommendation). It never gates the drain: its end is reported (log,
 * status), and a failure does not complete or release anything.
 */
final class EventCommands {

  private final Optional<String> command;
  private final Duration timeout;
  private final CommandRunner runner;
  private final Map<String, CompletableFuture<CommandRunner.CommandResult>> running =
      new LinkedHashMap<>();
  private final List<String> fired = new ArrayList<>();

  EventCommands(Optional<String> command, Duration timeout, CommandRunner runner) {
    this.command = command;
    this.timeout = timeout;
    this.runner = runner;
  }

  /** Starts the command for {@code event}, unless it already ran for that event. */
  void fire(String event, Map<String, String> env) {
    if (command.isEmpty() || fired.contains(event)) {
      return;
    }
    fired.add(event);
    Map<String, String> withEvent = new LinkedHashMap<>(env);
    withEvent.put("DRAINGUARD_EVENT", event);
    running.put(event, runner.start("on-termination", command.get(), withEvent, timeout));
  }

  /** The failures of the commands that ended since the last call, one line each. */
  List<String> ended() {
    List<String> failures = new ArrayList<>();
    running
        .entrySet()
        .removeIf(
            e -> {
              if (!e.getValue().isDone()) {
                return false;
              }
              CommandRunner.CommandResult r = e.getValue().join();
              if (!r.ok()) {
                failures.add(
                    "on-termination command for "
                        + e.getKey()
                        + (r.timedOut() ? " timed out" : " failed with exit " + r.exitCode())
                        + (r.error() == null ? "" : ": " + r.error()));
              }
              return true;
            });
    return failures;
  }

  /** The events the command was started for, in order. */
  List<String> fired() {
    return List.copyOf(fired);
  }
}
