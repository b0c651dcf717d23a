package dev.drainguard.operator;

import java.util.Locale;

/**
 * Operator-supplied text (a hold or release reason, a user name) made safe to put in a log line and
 * on a terminal: capped in length, with every character that could end a line, start a terminal
 * escape sequence or reorder what is shown written out as an escape instead. What is left is one
 * line of visible characters, so a reason can never forge a log line (or its journald priority) or
 * move a terminal's cursor.
 */
public final class OperatorText {

  /** The longest reason a request may carry, in characters: a sentence or two, not a file. */
  public static final int MAX_REASON = 500;

  /** Appended where text was cut. */
  static final String CUT = "…";

  private OperatorText() {}

  /**
   * {@code text} as one safe line of at most {@code max} characters: backslash and double quote
   * escaped (so a quoted log value cannot be closed early), {@code \n \r \t} as such, other
   * control, format (bidirectional overrides, zero-width characters), line and paragraph separator
   * and lone surrogate characters as {@code \}{@code uXXXX}; cut with "…" when longer.
   */
  public static String clean(String text, int max) {
    if (text == null) {
      return null;
    }
    StringBuilder b = new StringBuilder(Math.min(text.length(), max) + 8);
    int i = 0;
    while (i < text.length()) {
      int cp = text.codePointAt(i);
      String piece = escape(cp, true);
      i += Character.charCount(cp);
      // every piece but the last leaves room for the cut mark, so b is short enough to take it
      int room = i >= text.length() ? max : max - CUT.length();
      if (b.length() + piece.length() > room) {
        return b.append(CUT).toString();
      }
      b.append(piece);
    }
    return b.toString();
  }

  /** A reason as it is logged and shown: cleaned and capped, or "no reason given". */
  public static String reason(String reason) {
    return reason == null || reason.isBlank() ? "no reason given" : clean(reason, MAX_REASON);
  }

  /**
   * {@code text} for a terminal, whatever its length: as {@link #clean} but quotes and backslashes
   * kept as they are (text the agent cleaned already keeps its escapes as they were).
   */
  public static String display(String text) {
    if (text == null) {
      return null;
    }
    StringBuilder b = new StringBuilder(text.length());
    text.codePoints().forEach(cp -> b.append(escape(cp, false)));
    return b.toString();
  }

  private static String escape(int cp, boolean quotes) {
    if (quotes && (cp == '\\' || cp == '"')) {
      return "\\" + (char) cp;
    }
    switch (cp) {
      case '\n':
        return "\\n";
      case '\r':
        return "\\r";
      case '\t':
        return "\\t";
      default:
        break;
    }
    int type = Character.getType(cp);
    boolean unsafe =
        type == Character.CONTROL
            || type == Character.FORMAT
            || type == Character.LINE_SEPARATOR
            || type == Character.PARAGRAPH_SEPARATOR
            || type == Character.SURROGATE
            || type == Character.UNASSIGNED
            || type == Character.PRIVATE_USE;
    if (!unsafe) {
      return new String(Character.toChars(cp));
    }
    return cp <= 0xFFFF
        ? String.format(Locale.ROOT, "\\u%04x", cp)
        : String.format(Locale.ROOT, "\\U%08x", cp);
  }
}
