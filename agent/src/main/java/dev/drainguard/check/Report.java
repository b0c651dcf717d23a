package dev.drainguard.check;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** How the results of {@code drainguard check} are printed, as text or as one JSON line. */
public final class Report {

  /** Width of the name column: the longest name, {@code queue-root}. */
  static final int NAME_WIDTH = 10;

  private static final String FIX_INDENT = " ".repeat(4 + 2 + NAME_WIDTH + 2);

  private Report() {}

  /**
   * One aligned line per check ({@code PASS imds IMDSv2 at …}), its fix indented on the next line,
   * then the summary line.
   */
  public static String text(List<Check> checks) {
    StringBuilder b = new StringBuilder();
    for (Check c : checks) {
      b.append(
          String.format("%-4s  %-" + NAME_WIDTH + "s  %s%n", c.status(), c.name(), c.detail()));
      c.fix().ifPresent(f -> b.append(FIX_INDENT).append("fix: ").append(f).append('\n'));
    }
    return b.append(summary(checks)).append('\n').toString();
  }

  /** {@code 6 passed, 1 warning, 0 failed, 1 skipped}. */
  public static String summary(List<Check> checks) {
    long warnings = count(checks, Check.Status.WARN);
    return count(checks, Check.Status.PASS)
        + " passed, "
        + warnings
        + (warnings == 1 ? " warning, " : " warnings, ")
        + count(checks, Check.Status.FAIL)
        + " failed, "
        + count(checks, Check.Status.SKIP)
        + " skipped";
  }

  /**
   * One line: {@code {"checks":[{"status","name","detail","fix"}…],"passed":n,"warnings":n,
   * "failed":n,"skipped":n}}; {@code fix} is null when there is none.
   */
  public static String json(List<Check> checks) {
    List<Map<String, Object>> lines = new ArrayList<>();
    for (Check c : checks) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("status", c.status().name());
      m.put("name", c.name());
      m.put("detail", c.detail());
      m.put("fix", c.fix().orElse(null));
      lines.add(m);
    }
    Map<String, Object> all = new LinkedHashMap<>();
    all.put("checks", lines);
    all.put("passed", count(checks, Check.Status.PASS));
    all.put("warnings", count(checks, Check.Status.WARN));
    all.put("failed", count(checks, Check.Status.FAIL));
    all.put("skipped", count(checks, Check.Status.SKIP));
    try {
      return new ObjectMapper().writeValueAsString(all);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException("writing the check report as JSON", e);
    }
  }

  /** True when any check FAILed: {@code drainguard check} then exits 1. */
  public static boolean anyFailed(List<Check> checks) {
    return count(checks, Check.Status.FAIL) > 0;
  }

  private static long count(List<Check> checks, Check.Status status) {
    return checks.stream().filter(c -> c.status() == status).count();
  }
}
