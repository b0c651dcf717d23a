package dev.drainguard.metrics;

import dev.drainguard.drain.DrainStatus;
import java.util.Locale;

/**
 * The labels of {@code drainguard_completions_total}, kept to a small fixed set.
 *
 * @param result {@code continue} or {@code abandon} when this agent completed the action, {@code
 *     none} when it sent nothing
 * @param reason {@code drained} (the queues were empty), {@code released} (an operator), {@code
 *     deadline} (policy complete at the deadline), {@code lost} (the action vanished or never
 *     became active), {@code expired} (policy expire at the deadline); {@code other} for a
 *     completion whose reason this version does not know, and the phase's name for a terminal phase
 *     it does not know
 */
record Completion(String result, String reason) {

  static Completion of(DrainStatus s) {
    String result = s.result().map(r -> r.name().toLowerCase(Locale.ROOT)).orElse("none");
    String why = s.endReason().orElse("");
    String reason =
        switch (s.phase()) {
          case COMPLETED -> {
            if (why.startsWith("queues drained")) {
              yield "drained";
            } else if (why.startsWith("retained")) {
              yield "retained";
            } else if (why.startsWith("released")) {
              yield "released";
            } else if (why.contains("deadline")) {
              yield "deadline";
            }
            yield "other";
          }
          case LOST -> "lost";
          case EXPIRED -> "expired";
          default -> s.phase().name().toLowerCase(Locale.ROOT);
        };
    return new Completion(result, reason);
  }
}
