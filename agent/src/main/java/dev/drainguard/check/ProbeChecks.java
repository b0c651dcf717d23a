package dev.drainguard.check;

import dev.drainguard.queue.CommandProbe;
import dev.drainguard.queue.DrainedWhen;
import dev.drainguard.queue.Probe;
import dev.drainguard.queue.ProbeReading;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The scheduled probes ({@code probe}, one line each): each is asked once, as the agent would ask
 * it, and its reading is shown; a probe that cannot tell is a FAIL, since the agent would hold on
 * it. Then how the readings combine ({@code drained-when}).
 */
final class ProbeChecks {

  /** Queues listed by name in a reading's line; more are counted. */
  static final int LISTED = 5;

  private final List<Probe> probes;
  private final DrainedWhen rule;

  ProbeChecks(List<Probe> probes, DrainedWhen rule) {
    this.probes = probes;
    this.rule = rule;
  }

  void run(List<Check> out) {
    for (Probe p : probes) {
      ProbeReading r = p.read();
      String what = p.name() + " probe, " + p.describe() + ": ";
      if (r.unknown().isPresent()) {
        out.add(Check.fail(Checks.PROBE, what + r.unknown().get(), fix(p)));
      } else {
        out.add(Check.pass(Checks.PROBE, what + reading(r)));
      }
    }
    String deciding =
        rule.mode() == DrainedWhen.Mode.ANY
            ? "any one of the probes says empty"
            : "every one of "
                + String.join(", ", deciding())
                + " says empty"
                + (rule.mode() == DrainedWhen.Mode.NAMED ? " (the others are shown only)" : "");
    out.add(Check.pass(Checks.DRAINED_WHEN, "'" + rule + "': drained when " + deciding));
  }

  private List<String> deciding() {
    return Stream.concat(Stream.of(ProbeReading.FILES), probes.stream().map(Probe::name))
        .filter(rule::decides)
        .toList();
  }

  static String reading(ProbeReading r) {
    String queues =
        r.queues().stream()
            .limit(LISTED)
            .map(q -> q.name() + " " + q.bytes())
            .collect(Collectors.joining(", "));
    int more = r.queues().size() - LISTED;
    return r.bytes()
        + " bytes queued in "
        + r.queues().size()
        + (r.queues().size() == 1 ? " queue" : " queues")
        + (queues.isEmpty() ? "" : " (" + queues + (more > 0 ? ", " + more + " more" : "") + ")")
        + (r.empty() ? ", empty" : ", NOT empty");
  }

  private static String fix(Probe p) {
    if (p.name().equals(CommandProbe.NAME)) {
      return "run the command by hand as the agent's user: it must exit 0 and print exactly one"
          + " integer or {\"queues\":[{\"name\":...,\"bytes\":N}]} (at least one queue), nothing"
          + " else, within --probe-timeout";
    }
    return "check --cribl-api-url; the token file (--cribl-token-file: owned by the agent's user or"
        + " root, mode 0600 or 0640, the token on its first line; a role that may GET"
        + " /system/metrics and /system/settings/conf); --cribl-worker-processes (auto, or how many"
        + " worker processes run); README, 'The Cribl API probe'";
  }
}
