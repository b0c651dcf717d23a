package dev.drainguard.scenario.core;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** A replayed scenario's whole timeline, in order, for reading (-Dscenario.seed). */
final class Trace {

  private Trace() {}

  private record Line(long at, int order, String text) {}

  static String of(Plan plan, Timeline t) {
    List<Line> lines = new ArrayList<>();
    for (Plan.Change c : plan.changes()) {
      lines.add(new Line(c.at(), 0, "plan      " + c));
    }
    for (Queues.Parcel p : t.queues.parcels()) {
      lines.add(
          new Line(
              p.start(),
              1,
              String.format(
                  "truth     +%s #%d %d B%s%s",
                  p.source(),
                  p.id(),
                  p.bytes(),
                  p.hidden() ? " hidden" : "",
                  p.flush() ? " flush" : "")));
      if (p.end() != Long.MAX_VALUE) {
        lines.add(new Line(p.end(), 1, String.format("truth     -%s #%d", p.source(), p.id())));
      }
    }
    for (Timeline.Delivery d : t.deliveries) {
      lines.add(
          new Line(
              d.deliveredAt(),
              2,
              String.format(
                  "inc%d read %s %s taken +%dms %s parcels %s",
                  d.inc(),
                  d.source(),
                  d.kind(),
                  d.takenAt(),
                  !d.known() ? "UNKNOWN" : d.empty() ? "empty" : "NOT empty",
                  java.util.Arrays.toString(d.shown()))));
    }
    for (Timeline.Imds i : t.imds) {
      if (i.target().isPresent()) {
        lines.add(new Line(i.deliveredAt(), 2, "inc" + i.inc() + " imds " + i.target().get()));
      }
    }
    for (Timeline.Emitted e : t.emitted) {
      lines.add(
          new Line(
              e.at(),
              3,
              String.format(
                  "inc%d asks %s (%s -> %s)", e.inc(), e.intent(), e.before(), e.after())));
    }
    for (Timeline.Call c : t.calls) {
      lines.add(
          new Line(
              c.answeredAt(),
              4,
              String.format(
                  "inc%d call %s sent +%dms applied %s: %s; told %s",
                  c.inc(),
                  c.kind(),
                  c.sentAt(),
                  c.appliedAt() < 0 ? "never" : "+" + c.appliedAt() + "ms",
                  c.real(),
                  c.told())));
    }
    for (Timeline.PhaseChange c : t.phases) {
      lines.add(
          new Line(
              c.at(),
              5,
              String.format(
                  "inc%d phase %s (Auto Scaling: %s)", c.inc(), c.phase(), c.lifecycleState())));
    }
    for (Timeline.Operator o : t.operator) {
      lines.add(
          new Line(
              o.at(),
              5,
              String.format(
                  "inc%d operator %s%s accepted=%s",
                  o.inc(),
                  o.hold() ? "hold" : "release",
                  o.force() ? " --force" : "",
                  o.accepted())));
    }
    lines.sort(
        (a, b) -> a.at != b.at ? Long.compare(a.at, b.at) : Integer.compare(a.order, b.order));
    return "replayed "
        + plan.describe()
        + "\n  incarnations "
        + t.incarnations
        + "\n  termination start +"
        + t.terminationStart
        + "ms, action end "
        + t.actionEnd
            .map(e -> e.kind() + " " + e.result() + " at +" + t.actionEndAt + "ms")
            .orElse("none")
        + ", run end +"
        + t.end
        + "ms\n"
        + lines.stream()
            .map(l -> String.format("  %9d  %s", l.at, l.text))
            .collect(Collectors.joining("\n"));
  }
}
