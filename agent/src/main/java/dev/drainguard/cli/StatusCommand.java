package dev.drainguard.cli;

import dev.drainguard.operator.OperatorText;
import dev.drainguard.status.ControlProtocol;
import dev.drainguard.status.StatusView;
import java.io.PrintWriter;
import java.time.Duration;
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

  static final int IN_SERVICE = 0;
  static final int HOLDING = 10;
  static final int ENDED = 11;
  static final int NOT_PROTECTED = 12;

  /** How often --watch redraws. */
  static final Duration WATCH_EVERY = Duration.ofSeconds(1);

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
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    while (true) {
      ControlOptions.Answer answer =
          control.send(ControlProtocol.Request.of(ControlProtocol.Op.STATUS, null, false), err);
      if (answer.reply().isEmpty()) {
        return answer.exitCode();
      }
      ControlProtocol.Reply r = answer.reply().get();
      if (!r.ok() || r.status() == null) {
        err.println(
            "drainguard: the agent answered an error: "
                + OperatorText.clean(String.valueOf(r.error()), ControlReplies.MAX_MESSAGE));
        return ExitCodes.FAILURE;
      }
      if (watch) {
        out.print("\u001b[H\u001b[2J");
      }
      if (json) {
        out.println(r.status().toJson());
      } else {
        out.print(StatusFormat.render(r.status()));
      }
      out.flush();
      if (!watch) {
        return exitCode(r.status());
      }
      ThreadSleeper.INSTANCE.sleep(WATCH_EVERY);
      if (Thread.currentThread().isInterrupted()) {
        return exitCode(r.status());
      }
    }
  }

  static int exitCode(StatusView s) {
    if (s.hookProblem() != null) {
      return NOT_PROTECTED;
    }
    return switch (String.valueOf(s.phase())) {
      case "IN_SERVICE" -> IN_SERVICE;
      case "AWAITING_ACTION", "HOLDING", "DRAINED", "RETAINED" -> HOLDING;
      default -> ENDED;
    };
  }
}
