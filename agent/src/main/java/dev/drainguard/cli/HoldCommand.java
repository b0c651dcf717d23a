package dev.drainguard.cli;

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
    exitCodeList = {
      "0:held",
      "1:refused (the message says why)",
      "3:the agent is not reachable",
      "4:the socket is not served by the agent's user: nothing was sent",
      "77:this user may not use the socket (not root, not in the agent's group)"
    })
final class HoldCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin ControlOptions control;

  @Option(
      names = "--reason",
      paramLabel = "TEXT",
      description =
          "Why; logged and shown with who asked (the agent learns that from the kernel). At most"
              + " 500 characters.")
  String reason;

  @Override
  public Integer call() {
    return ControlCalls.hold(
        control, reason, spec.commandLine().getOut(), spec.commandLine().getErr());
  }
}
