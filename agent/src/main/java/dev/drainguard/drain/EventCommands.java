package dev.drainguard.drain;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's {@code on-termination-command}, run once per event (a termination noticed, a spot
 * interruption, a rebalance recommendation). It never gates the drain: its end is reported (log,
 * status), and a failure does not complete or release anything.
 */
final class EventCommands {

  private static final Logger log = LoggerFactory.getLogger(DrainController.class);

  /** The command name its runs carry, with the event after a colon. */
  static final String NAME = "on-termination";

  private final Optional<String> command;
  private final Duration timeout;
  private final List<String> fired = new ArrayList<>();

  EventCommands(Optional<String> command, Duration timeout) {
    this.command = command;
    this.timeout = timeout;
  }

  /** Asks for the command for {@code event}, unless it already ran for that event. */
  void fire(String event, Map<String, String> env, List<Intent> out) {
    if (command.isEmpty() || fired.contains(event)) {
      return;
    }
    fired.add(event);
    Map<String, String> withEvent = new LinkedHashMap<>(env);
    withEvent.put("DRAINGUARD_EVENT", event);
    out.add(new Intent.RunCommand(NAME + ":" + event, command.get(), withEvent, timeout));
  }

  /** One of these commands ended: a failure is returned as one line for status, else empty. */
  Optional<String> ended(String name, CommandRunner.CommandResult r) {
    if (r.ok()) {
      return Optional.empty();
    }
    String event = name.substring(name.indexOf(':') + 1);
    String failure =
        "on-termination command for "
            + event
            + (r.timedOut() ? " timed out" : " failed with exit " + r.exitCode())
            + (r.error() == null ? "" : ": " + r.error());
    log.error("{}", failure);
    return Optional.of(failure);
  }

  /** The events the command was started for, in order. */
  List<String> fired() {
    return List.copyOf(fired);
  }
}
