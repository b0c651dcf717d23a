package dev.drainguard.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code drainguard release}: complete the lifecycle action now. */
@Command(
    name = "release",
    mixinStandardHelpOptions = true,
    header = "Complete the lifecycle action now (CONTINUE) unless data is queued.",
    description = {
      "Complete the termination lifecycle action now (CONTINUE). Refused while data",
      "is queued unless --force, which says how many bytes will be lost. Logged, and",
      "shown by status."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:released",
      "1:refused (the message says why)",
      "3:the agent is not reachable",
      "4:the socket is not served by the agent's user: nothing was sent",
      "77:this user may not use the socket (not root, not in the agent's group)"
    })
final class ReleaseCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin ControlOptions control;

  @Option(
      names = "--force",
      arity = "0..1",
      paramLabel = "BOOL",
      description = "Complete even though data is queued: it is lost.")
  boolean force;

  @Option(
      names = "--reason",
      paramLabel = "TEXT",
      description =
          "Why; logged and shown with who asked (the agent learns that from the kernel). At most"
              + " 500 characters.")
  String reason;

  @Override
  public Integer call() {
    return ControlCalls.release(
        control, reason, force, spec.commandLine().getOut(), spec.commandLine().getErr());
  }
}
