package dev.drainguard.cli;

import dev.drainguard.status.ControlProtocol;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code drainguard hold}: keep the termination held even when the queues have drained. */
@Command(
    name = "hold",
    mixinStandardHelpOptions = true,
    header = "Keep holding the termination after the queues have drained.",
    description = {
      "Keep holding the termination even when the queues have drained, until",
      "'drainguard release' or the deadline policy acts. Logged, and shown by status."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:held", "1:refused (the message says why)", "3:the agent is not reachable"})
final class HoldCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin ControlOptions control;

  @Option(names = "--reason", paramLabel = "TEXT", description = "Why; logged and shown.")
  String reason;

  @Override
  public Integer call() {
    return ControlReplies.print(
        spec,
        control.send(
            ControlProtocol.Request.of(ControlProtocol.Op.HOLD, reasonOrUser(reason), false),
            spec.commandLine().getErr()));
  }

  /** The reason given, else who asked: an operator's action is never anonymous in the log. */
  static String reasonOrUser(String reason) {
    String user = System.getProperty("user.name", "unknown");
    return reason == null || reason.isBlank() ? "(no reason given, by " + user + ")" : reason;
  }
}
