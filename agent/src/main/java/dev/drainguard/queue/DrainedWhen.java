package dev.drainguard.queue;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * How the probes' readings combine into "drained" ({@code --drained-when}): every enabled probe
 * says empty ({@code all}, the default), at least one does ({@code any}), or every named one does
 * (the others are shown, not counted). A probe that cannot tell never says empty.
 */
public record DrainedWhen(Mode mode, Set<String> named) {

  /** The three ways of combining. */
  public enum Mode {
    ALL,
    ANY,
    NAMED
  }

  /** Every probe name {@code --drained-when} may use. */
  public static final List<String> PROBES =
      List.of(ProbeReading.FILES, CommandProbe.NAME, CriblApiProbe.NAME);

  public static final DrainedWhen ALL = new DrainedWhen(Mode.ALL, Set.of());

  public DrainedWhen {
    named = Set.copyOf(new TreeSet<>(named));
    if ((mode == Mode.NAMED) == named.isEmpty()) {
      throw new IllegalArgumentException("probe names go with NAMED, and only with it");
    }
    for (String n : named) {
      if (!PROBES.contains(n)) {
        throw new IllegalArgumentException("unknown probe " + n);
      }
    }
  }

  /**
   * Parses {@code all}, {@code any} or probe names joined by commas.
   *
   * @throws IllegalArgumentException for anything else
   */
  public static DrainedWhen parse(String value) {
    String v = value.strip();
    if (v.equals("all")) {
      return ALL;
    }
    if (v.equals("any")) {
      return new DrainedWhen(Mode.ANY, Set.of());
    }
    Set<String> names = new TreeSet<>();
    for (String part : v.split(",", -1)) {
      String n = part.strip();
      if (!PROBES.contains(n)) {
        throw new IllegalArgumentException("unknown probe '" + n + "'");
      }
      names.add(n);
    }
    return new DrainedWhen(Mode.NAMED, names);
  }

  /** Whether {@code probe}'s reading counts in the verdict. */
  public boolean decides(String probe) {
    return mode != Mode.NAMED || named.contains(probe);
  }

  /** The verdict over {@code readings}, which name every enabled probe. */
  public boolean empty(List<ProbeReading> readings) {
    return switch (mode) {
      case ANY -> readings.stream().anyMatch(ProbeReading::empty);
      case ALL, NAMED ->
          readings.stream().filter(r -> decides(r.probe())).allMatch(ProbeReading::empty);
    };
  }

  /** As written in the configuration. */
  @Override
  public String toString() {
    return switch (mode) {
      case ALL -> "all";
      case ANY -> "any";
      case NAMED -> String.join(",", new TreeSet<>(named));
    };
  }
}
