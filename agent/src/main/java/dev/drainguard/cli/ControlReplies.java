package dev.drainguard.cli;

import dev.drainguard.operator.OperatorText;
import dev.drainguard.status.ControlProtocol;
import picocli.CommandLine.Model.CommandSpec;

/** Prints the agent's answer to a hold or release and turns it into an exit code. */
final class ControlReplies {

  /** Longest message printed from a reply: a message is a sentence or two. */
  static final int MAX_MESSAGE = 2000;

  private ControlReplies() {}

  static int print(CommandSpec spec, ControlOptions.Answer answer) {
    if (answer.reply().isEmpty()) {
      return answer.exitCode();
    }
    ControlProtocol.Reply r = answer.reply().get();
    if (r.ok()) {
      spec.commandLine().getOut().println(OperatorText.clean(r.message(), MAX_MESSAGE));
      spec.commandLine().getOut().flush();
      return ExitCodes.OK;
    }
    spec.commandLine()
        .getErr()
        .println("drainguard: " + OperatorText.clean(r.error(), MAX_MESSAGE));
    spec.commandLine().getErr().flush();
    return ExitCodes.FAILURE;
  }
}
