package dev.drainguard.cli;

import dev.drainguard.status.ControlProtocol;
import java.util.Optional;
import picocli.CommandLine.Model.CommandSpec;

/** Prints the agent's answer to a hold or release and turns it into an exit code. */
final class ControlReplies {

  private ControlReplies() {}

  static int print(CommandSpec spec, Optional<ControlProtocol.Reply> reply) {
    if (reply.isEmpty()) {
      return ControlOptions.UNREACHABLE;
    }
    ControlProtocol.Reply r = reply.get();
    if (r.ok()) {
      spec.commandLine().getOut().println(r.message());
      spec.commandLine().getOut().flush();
      return ExitCodes.OK;
    }
    spec.commandLine().getErr().println("drainguard: " + r.error());
    spec.commandLine().getErr().flush();
    return ExitCodes.FAILURE;
  }
}
