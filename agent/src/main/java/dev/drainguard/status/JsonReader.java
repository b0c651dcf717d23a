package dev.drainguard.status;

import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict reader of one JSON value (RFC 8259) into a tree: {@link Obj}, {@link List}, {@link
 * String}, {@link Num}, {@link Boolean} or null. What {@link ControlJson} binds to records, and how
 * the agent reads the few JSON documents IMDS gives (spot notices, instance-profile credentials)
 * without Jackson.
 */
public final class JsonReader {

  /** Deeper nesting is refused rather than overflowing the stack (Jackson's limit too). */
  static final int MAX_DEPTH = 1000;

  /** A JSON object: its members by name (a repeated name: the last one counts). */
  public record Obj(Map<String, Object> members) {
    public Object get(String name) {
      return members.get(name);
    }
  }

  /** A JSON number, kept as its text until a type asks for it. */
  public record Num(String text) {
    static Num parse(String text) {
      Num n = new Num(text);
      n.value(); // NumberFormatException when it is not a number
      return n;
    }

    public Number value() {
      if (text.indexOf('.') < 0 && text.indexOf('e') < 0 && text.indexOf('E') < 0) {
        BigInteger i = new BigInteger(text);
        return i.bitLength() < 64 ? (Number) i.longValue() : i;
      }
      return Double.parseDouble(text); // as Jackson reads it, -0.0 included
    }

    @Override
    public String toString() {
      return text;
    }
  }

  private final String s;
  private int pos;
  private int depth;

  public JsonReader(String s) {
    this.s = s;
  }

  /** The one JSON value {@code s} holds, nothing but white space after it. */
  public static Object parse(String s) throws IOException {
    JsonReader r = new JsonReader(s);
    Object tree = r.value();
    r.end();
    return tree;
  }

  public static String kind(Object tree) {
    if (tree instanceof Obj) {
      return "object";
    }
    if (tree instanceof List) {
      return "array";
    }
    if (tree instanceof String) {
      return "string";
    }
    if (tree instanceof Num) {
      return "number";
    }
    return tree instanceof Boolean ? "boolean" : "null";
  }

  /** Fails unless only white space is left. */
  public void end() throws IOException {
    skipSpace();
    if (pos < s.length()) {
      throw error("trailing characters");
    }
  }

  public Object value() throws IOException {
    skipSpace();
    if (pos >= s.length()) {
      throw error("unexpected end of input");
    }
    char c = s.charAt(pos);
    switch (c) {
      case '{':
        return object();
      case '[':
        return array();
      case '"':
        return string();
      case 't':
        return literal("true", Boolean.TRUE);
      case 'f':
        return literal("false", Boolean.FALSE);
      case 'n':
        return literal("null", null);
      default:
        if (c == '-' || (c >= '0' && c <= '9')) {
          return number();
        }
        throw error("unexpected character '" + c + "'");
    }
  }

  private Obj object() throws IOException {
    enter();
    pos++; // {
    Map<String, Object> members = new HashMap<>();
    skipSpace();
    if (peek() == '}') {
      pos++;
      depth--;
      return new Obj(members);
    }
    while (true) {
      skipSpace();
      if (peek() != '"') {
        throw error("expected a member name");
      }
      String name = string();
      skipSpace();
      expect(':');
      members.put(name, value());
      skipSpace();
      char c = next();
      if (c == '}') {
        depth--;
        return new Obj(members);
      }
      if (c != ',') {
        throw error("expected ',' or '}'");
      }
    }
  }

  private List<Object> array() throws IOException {
    enter();
    pos++; // [
    List<Object> items = new ArrayList<>();
    skipSpace();
    if (peek() == ']') {
      pos++;
      depth--;
      return items;
    }
    while (true) {
      items.add(value());
      skipSpace();
      char c = next();
      if (c == ']') {
        depth--;
        return items;
      }
      if (c != ',') {
        throw error("expected ',' or ']'");
      }
    }
  }

  private String string() throws IOException {
    pos++; // "
    StringBuilder b = new StringBuilder();
    while (true) {
      char c = next();
      if (c == '"') {
        return b.toString();
      }
      if (c < 0x20) {
        throw error("unescaped control character in a string");
      }
      if (c != '\\') {
        b.append(c);
        continue;
      }
      char e = next();
      switch (e) {
        case '"', '\\', '/' -> b.append(e);
        case 'b' -> b.append('\b');
        case 'f' -> b.append('\f');
        case 'n' -> b.append('\n');
        case 'r' -> b.append('\r');
        case 't' -> b.append('\t');
        case 'u' -> {
          if (pos + 4 > s.length()) {
            throw error("short \\u escape");
          }
          int code = 0;
          for (int k = pos; k < pos + 4; k++) {
            int digit = Character.digit(s.charAt(k), 16); // four hex digits, no sign
            if (digit < 0) {
              throw error("bad \\u escape");
            }
            code = code * 16 + digit;
          }
          b.append((char) code);
          pos += 4;
        }
        default -> throw error("bad escape '\\" + e + "'");
      }
    }
  }

  private Num number() throws IOException {
    int start = pos;
    if (peek() == '-') {
      pos++;
    }
    int first = pos;
    if (!digits()) {
      throw error("expected a digit");
    }
    if (s.charAt(first) == '0' && pos - first > 1) {
      throw error("a number with a leading zero");
    }
    if (pos < s.length() && s.charAt(pos) == '.') {
      pos++;
      if (!digits()) {
        throw error("expected a digit after '.'");
      }
    }
    if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
      pos++;
      if (pos < s.length() && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) {
        pos++;
      }
      if (!digits()) {
        throw error("expected a digit in the exponent");
      }
    }
    return new Num(s.substring(start, pos));
  }

  private boolean digits() {
    int start = pos;
    while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') {
      pos++;
    }
    return pos > start;
  }

  private Object literal(String word, Object value) throws IOException {
    if (!s.startsWith(word, pos)) {
      throw error("unexpected word");
    }
    pos += word.length();
    return value;
  }

  private void enter() throws IOException {
    if (++depth > MAX_DEPTH) {
      throw error("nested deeper than " + MAX_DEPTH);
    }
  }

  private void skipSpace() {
    while (pos < s.length()) {
      char c = s.charAt(pos);
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return;
      }
      pos++;
    }
  }

  private char peek() throws IOException {
    if (pos >= s.length()) {
      throw error("unexpected end of input");
    }
    return s.charAt(pos);
  }

  private char next() throws IOException {
    char c = peek();
    pos++;
    return c;
  }

  private void expect(char c) throws IOException {
    if (next() != c) {
      throw error("expected '" + c + "'");
    }
  }

  private IOException error(String what) {
    return new IOException(what + " at character " + pos + " of the reply");
  }
}
