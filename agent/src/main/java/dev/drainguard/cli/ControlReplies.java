package dev.drainguard.cli;

import dev.drainguard.operator.OperatorText;
import dev.drainguard.status.ControlProtocol;
import java.io.PrintWriter;

/** Prints the agent's answer to a hold or release and turns it into an exit code. */
final class ControlReplies {

  /** Longest message printed from a reply: a message is a sentence or two. */
  static final int MAX_MESSAGE = 2000;

  private ControlReplies() {}

  static int print(PrintWriter out, PrintWriter err, ControlOptions.Answer answer) {
    if (answer.reply().isEmpty()) {
      return answer.exitCode();
    }
    ControlProtocol.Reply r = answer.reply().get();
    if (r.ok()) {
      out.println(OperatorText.clean(r.message(), MAX_MESSAGE));
      out.flush();
      return ExitCodes.OK;
    }
    err.println("drainguard: " + OperatorText.clean(r.error(), MAX_MESSAGE));
    err.flush();
    return ExitCodes.FAILURE;
  }
}
