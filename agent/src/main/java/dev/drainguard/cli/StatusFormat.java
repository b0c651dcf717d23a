package dev.drainguard.cli;

import dev.drainguard.operator.OperatorText;
import dev.drainguard.status.StatusView;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** The human view of {@code drainguard status}. */
final class StatusFormat {

  /** Queues listed by name on a probe's line; status --json has them all. */
  static final int MAX_QUEUES = 4;

  private StatusFormat() {}

  static String render(StatusView s) {
    StringBuilder b = new StringBuilder();
    line(
        b,
        "agent",
        "drainguard " + s.version() + ", pid " + s.pid() + ", up " + ago(s.uptimeSeconds()));
    line(b, "phase", s.phase() + phaseDetail(s));
    line(
        b,
        "target state",
        s.targetLifecycleState() + opt(" (termination noticed ", s.noticedAt(), ")"));
    line(b, "instance", s.instance() + " in asg " + s.group() + ", hook " + s.hook());
    line(
        b,
        "hook",
        "HeartbeatTimeout "
            + ago(s.hookHeartbeatTimeoutSeconds())
            + ", global timeout "
            + ago(s.hookGlobalTimeoutSeconds())
            + ", DefaultResult "
            + s.hookDefaultResult()
            + ", read "
            + s.hookReadAt());
    if (s.hookProblem() != null) {
      line(b, "hook", "NOT PROTECTED: " + s.hookProblem());
    }
    line(
        b,
        "heartbeats",
        s.heartbeats()
            + " sent"
            + opt(", last ", s.lastHeartbeat(), "")
            + opt(", next ", s.nextHeartbeat(), ""));
    if (s.deadline() != null) {
      line(
          b,
          "deadline",
          s.deadline()
              + (s.deadlineInSeconds() == null ? "" : " (in " + ago(s.deadlineInSeconds()) + ")")
              + ", policy "
              + s.deadlinePolicy());
    } else {
      line(b, "deadline", "none yet, policy " + s.deadlinePolicy());
    }
    if (s.retainedSince() != null) {
      line(
          b,
          "retained",
          "since "
              + s.retainedSince()
              + ": in Terminating:Retained, terminated by the agent once its queues drain");
    }
    if (s.scaleInProtected() || s.protectionChangedAt() != null) {
      line(
          b,
          "protection",
          (s.scaleInProtected() ? "protected from scale-in" : "not protected")
              + opt(" (changed ", s.protectionChangedAt(), ")"));
    }
    if (s.spotInterruptionTime() != null) {
      line(
          b,
          "spot",
          "INTERRUPTION: EC2 will "
              + s.spotInterruptionAction()
              + " at "
              + s.spotInterruptionTime());
    }
    if (s.rebalanceRecommendedAt() != null) {
      line(b, "rebalance", "recommended at " + s.rebalanceRecommendedAt());
    }
    if (s.eventCommands() != null) {
      line(b, "commands", "on-termination ran for " + String.join(", ", s.eventCommands()));
    }
    if (s.holdReason() != null) {
      line(b, "hold", "since " + s.holdSince() + ", " + s.holdReason());
    }
    if (s.releaseRequested()) {
      line(b, "release", "requested by operator");
    }
    if (s.result() != null || s.endReason() != null) {
      line(
          b,
          "ended",
          (s.result() == null ? "nothing sent" : s.result() + " sent")
              + opt(" at ", s.endedAt(), "")
              + (s.bytesAtEnd() == null ? "" : ", " + bytes(s.bytesAtEnd()) + " queued then")
              + opt(": ", s.endReason(), ""));
    }
    line(b, "last error", s.lastError() == null ? "none" : s.lastError());
    if (s.criblBuffers() != null) {
      for (String buffer : s.criblBuffers()) {
        line(b, "cribl", buffer);
      }
    }
    StatusView.Queues q = s.queues();
    if (q == null) {
      line(b, "queues", "not reported");
      return b.toString();
    }
    List<StatusView.Root> roots = q.roots() == null ? List.of() : q.roots();
    line(
        b,
        "queues",
        (q.empty() ? "empty" : "NOT empty")
            + ", "
            + q.totalFiles()
            + " files, "
            + bytes(q.totalBytes())
            + opt(", empty since ", q.emptySince(), ""));
    if (!q.empty()) {
      line(
          b,
          "forecast",
          (q.atRisk() ? "AT RISK: " : "")
              + q.forecast()
              + (q.forecastBytesAtRisk() != null && q.forecastBytesAtRisk() > 0
                  ? ", " + bytes(q.forecastBytesAtRisk()) + " left at the deadline"
                  : "")
              + (q.stalled() ? " (STALLED)" : ""));
    }
    int width = roots.stream().mapToInt(r -> display(r.path()).length()).max().orElse(0);
    for (StatusView.Root r : roots) {
      String detail =
          r.error() != null
              ? "ERROR: " + r.error()
              : String.format(
                  Locale.ROOT,
                  "%6d files %10s%s",
                  r.files(),
                  bytes(r.bytes()),
                  r.oldestAgeSeconds() == null ? "" : ", oldest " + ago(r.oldestAgeSeconds()));
      if (r.polled() != null) {
        detail += "; POLLED, not watched: " + r.polled();
      }
      b.append(
          String.format(
              Locale.ROOT, "  %-" + width + "s  %s%n", display(r.path()), display(detail)));
    }
    probes(b, q.probes() == null ? List.of() : q.probes());
    return b.toString();
  }

  /**
   * One line per probe, when there is more than the filesystem watcher or it does not decide: what
   * each says, and whether --drained-when counts it.
   */
  private static void probes(StringBuilder b, List<StatusView.Probe> probes) {
    if (probes.size() < 2 && probes.stream().allMatch(StatusView.Probe::deciding)) {
      return;
    }
    line(b, "probes", probes.size() + ", combined by drained-when (shown ones do not count)");
    int width = probes.stream().mapToInt(p -> display(p.name()).length()).max().orElse(0);
    for (StatusView.Probe p : probes) {
      String verdict =
          p.unknown() != null
              ? "UNKNOWN: " + p.unknown()
              : (p.empty() ? "empty" : "NOT empty")
                  + ", "
                  + bytes(p.bytes())
                  + (p.queues() == null || p.queues().isEmpty()
                      ? ""
                      : p.queues().stream()
                          .limit(MAX_QUEUES)
                          .map(x -> x.name() + " " + bytes(x.bytes()))
                          .collect(Collectors.joining(", ", " (", ")")));
      b.append(
          String.format(
              Locale.ROOT,
              "  %-" + width + "s  %-9s %s%n",
              display(p.name()),
              p.deciding() ? "deciding" : "shown",
              display(verdict)));
    }
  }

  private static String phaseDetail(StatusView s) {
    StringBuilder d = new StringBuilder();
    if (s.actionActiveSince() != null) {
      d.append(" (action active since ").append(s.actionActiveSince());
      if (s.heldSeconds() != null) {
        d.append(", held ").append(ago(s.heldSeconds()));
      }
      d.append(')');
    }
    return d.toString();
  }

  /**
   * One "key value" line. Every value is shown with its control characters escaped: a reason, a
   * path or a probe's error can never move the terminal's cursor or forge another line.
   */
  private static void line(StringBuilder b, String key, String value) {
    b.append(String.format(Locale.ROOT, "%-13s %s%n", key, display(value)));
  }

  private static String display(String value) {
    return value == null ? "" : OperatorText.display(value);
  }

  private static String opt(String before, String value, String after) {
    return value == null ? "" : before + value + after;
  }

  static String ago(long seconds) {
    Duration d = Duration.ofSeconds(Math.max(0, seconds));
    if (d.toHours() > 0) {
      return d.toHours() + "h " + d.toMinutesPart() + "m";
    }
    if (d.toMinutes() > 0) {
      return d.toMinutes() + "m " + d.toSecondsPart() + "s";
    }
    return d.getSeconds() + "s";
  }

  static String bytes(long n) {
    if (n < 1024) {
      return n + " B";
    }
    if (n < 1024 * 1024) {
      return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
    }
    if (n < 1024L * 1024 * 1024) {
      return String.format(Locale.ROOT, "%.1f MiB", n / (1024.0 * 1024));
    }
    return String.format(Locale.ROOT, "%.1f GiB", n / (1024.0 * 1024 * 1024));
  }
}
