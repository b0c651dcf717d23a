package dev.drainguard.cli;

import dev.drainguard.status.StatusView;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code drainguard status}: what the running agent is doing, for people and scripts. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = "Ask the running agent what it is doing.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:the agent runs and the instance is in service",
      "10:holding or draining a termination (also while retained)",
      "11:the termination is completed, lost or expired",
      "12:the agent runs but the group has no termination hook: scale-in is not held",
      "3:the agent is not reachable",
      "4:the socket is not served by the agent's user: nothing was believed",
      "77:this user may not use the socket (not root, not in the agent's group)",
      "78:bad configuration"
    })
final class StatusCommand implements Callable<Integer> {

  static final int IN_SERVICE = ControlCalls.IN_SERVICE;
  static final int HOLDING = ControlCalls.HOLDING;
  static final int ENDED = ControlCalls.ENDED;
  static final int NOT_PROTECTED = ControlCalls.NOT_PROTECTED;

  @Spec CommandSpec spec;

  @Mixin ControlOptions control;

  @Option(
      names = "--json",
      arity = "0..1",
      paramLabel = "BOOL",
      description = "Print the status as one JSON object.")
  boolean json;

  @Option(
      names = "--watch",
      arity = "0..1",
      paramLabel = "BOOL",
      description = "Redraw every second until interrupted.")
  boolean watch;

  @Override
  public Integer call() {
    return ControlCalls.status(
        control, json, watch, spec.commandLine().getOut(), spec.commandLine().getErr());
  }

  static int exitCode(StatusView s) {
    return ControlCalls.exitCode(s);
  }
}
