package dev.drainguard.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** The results table: one row per figure, printed as Markdown so the README can take it as is. */
final class Table {

  /**
   * One figure.
   *
   * @param verdict "met", "MISSED", or "" where the issue sets no target
   */
  record Row(String group, String what, String measured, String target, String verdict) {}

  private final List<Row> rows = new ArrayList<>();

  void add(String group, String what, String measured, String target, Boolean met) {
    rows.add(new Row(group, what, measured, target, met == null ? "" : met ? "met" : "**MISSED**"));
  }

  void add(String group, String what, String measured, String target, String verdict) {
    rows.add(new Row(group, what, measured, target, verdict));
  }

  void add(String group, String what, String measured) {
    add(group, what, measured, "", "");
  }

  List<Row> rows() {
    return List.copyOf(rows);
  }

  void print(PrintStream out) {
    out.println("| part | what | measured | target | |");
    out.println("|---|---|---|---|---|");
    for (Row r : rows) {
      out.printf(
          "| %s | %s | %s | %s | %s |%n",
          r.group(), r.what(), r.measured(), r.target(), r.verdict());
    }
  }
}
