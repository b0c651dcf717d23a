package dev.drainguard.cli;

import dev.drainguard.operator.OperatorText;
import dev.drainguard.status.ControlProtocol;
import dev.drainguard.status.StatusView;
import java.io.PrintWriter;
import java.time.Duration;

/**
 * What {@code status}, {@code hold} and {@code release} do once their options are known, without
 * picocli: the picocli commands and the lean path ({@link LeanArgs}) both call these, so the two
 * print the same and exit with the same code.
 */
final class ControlCalls {

  static final int IN_SERVICE = 0;
  static final int HOLDING = 10;
  static final int ENDED = 11;
  static final int NOT_PROTECTED = 12;

  /** How often --watch redraws. */
  static final Duration WATCH_EVERY = Duration.ofSeconds(1);

  private ControlCalls() {}

  /** {@code drainguard status}: prints the agent's status; the exit code says its phase. */
  static int status(
      ControlOptions control, boolean json, boolean watch, PrintWriter out, PrintWriter err) {
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

  /** {@code drainguard hold}. */
  static int hold(ControlOptions control, String reason, PrintWriter out, PrintWriter err) {
    return ControlReplies.print(
        out,
        err,
        control.send(ControlProtocol.Request.of(ControlProtocol.Op.HOLD, reason, false), err));
  }

  /** {@code drainguard release}. */
  static int release(
      ControlOptions control, String reason, boolean force, PrintWriter out, PrintWriter err) {
    return ControlReplies.print(
        out,
        err,
        control.send(ControlProtocol.Request.of(ControlProtocol.Op.RELEASE, reason, force), err));
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
