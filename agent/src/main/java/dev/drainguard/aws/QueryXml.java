package dev.drainguard.aws;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The XML of AWS Query-API answers, read into a tree of elements: names without their namespace
 * prefix, text with the five predefined entities and character references decoded, CDATA kept,
 * comments and processing instructions skipped, attributes ignored (the Query API puts nothing in
 * them but the namespace). A document type declaration is refused, as is anything that is not
 * well-formed: a malformed answer is never read as an answer.
 */
public final class QueryXml {

  /** Deeper than any Query answer; bounds the recursion a hostile document could ask for. */
  static final int MAX_DEPTH = 32;

  /** One element: its local name, its text (children's text excluded) and its child elements. */
  public record Element(String name, String text, List<Element> children) {

    /** The first child named {@code name}. */
    public Optional<Element> child(String name) {
      return children.stream().filter(c -> c.name.equals(name)).findFirst();
    }

    /** Every child named {@code name}, in document order. */
    public List<Element> all(String name) {
      return children.stream().filter(c -> c.name.equals(name)).toList();
    }

    /** The text of the first child named {@code name}, stripped. */
    public Optional<String> text(String name) {
      return child(name).map(c -> c.text.strip());
    }

    /** The first element named {@code name} here or below, depth first. */
    public Optional<Element> find(String name) {
      if (this.name.equals(name)) {
        return Optional.of(this);
      }
      for (Element c : children) {
        Optional<Element> f = c.find(name);
        if (f.isPresent()) {
          return f;
        }
      }
      return Optional.empty();
    }
  }

  /** The document is not the well-formed XML the Query API sends. */
  public static final class MalformedException extends Exception {
    private static final long serialVersionUID = 1L;

    MalformedException(String message) {
      super(message);
    }
  }

  private final String s;
  private int i;

  private QueryXml(String s) {
    this.s = s;
  }

  /** The root element of {@code document}. */
  public static Element parse(String document) throws MalformedException {
    QueryXml x = new QueryXml(document);
    x.misc();
    if (x.i >= x.s.length() || x.s.charAt(x.i) != '<') {
      throw x.malformed("no root element");
    }
    Element root = x.element(0);
    x.misc();
    if (x.i != x.s.length()) {
      throw x.malformed("content after the root element");
    }
    return root;
  }

  /** Skips white space, the XML declaration, comments and processing instructions. */
  private void misc() throws MalformedException {
    while (true) {
      while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
        i++;
      }
      if (s.startsWith("<?", i)) {
        skipPast("?>");
      } else if (s.startsWith("<!--", i)) {
        skipPast("-->");
      } else if (s.startsWith("<!", i)) {
        throw malformed("declarations (<!DOCTYPE …) are not accepted");
      } else {
        return;
      }
    }
  }

  private Element element(int depth) throws MalformedException {
    if (depth >= MAX_DEPTH) {
      throw malformed("nested deeper than " + MAX_DEPTH);
    }
    i++; // '<'
    String qname = name();
    // Attributes: skipped to the end of the tag, honouring quotes.
    boolean empty = false;
    while (true) {
      if (i >= s.length()) {
        throw malformed("start tag <" + qname + " not closed");
      }
      char c = s.charAt(i);
      if (c == '"' || c == '\'') {
        int close = s.indexOf(c, i + 1);
        if (close < 0) {
          throw malformed("attribute value not closed in <" + qname);
        }
        i = close + 1;
      } else if (c == '/' && s.startsWith("/>", i)) {
        i += 2;
        empty = true;
        break;
      } else if (c == '>') {
        i++;
        break;
      } else if (c == '<') {
        throw malformed("'<' inside the tag <" + qname);
      } else {
        i++;
      }
    }
    String local = local(qname);
    if (empty) {
      return new Element(local, "", List.of());
    }
    StringBuilder text = new StringBuilder();
    List<Element> children = new ArrayList<>();
    while (true) {
      if (i >= s.length()) {
        throw malformed("<" + qname + "> not closed");
      }
      char c = s.charAt(i);
      if (c == '<') {
        if (s.startsWith("</", i)) {
          i += 2;
          String end = name();
          if (!end.equals(qname)) {
            throw malformed("</" + end + "> closes <" + qname + ">");
          }
          while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
          }
          if (i >= s.length() || s.charAt(i) != '>') {
            throw malformed("end tag </" + end + " not closed");
          }
          i++;
          return new Element(local, text.toString(), List.copyOf(children));
        } else if (s.startsWith("<![CDATA[", i)) {
          int close = s.indexOf("]]>", i + 9);
          if (close < 0) {
            throw malformed("CDATA not closed");
          }
          text.append(s, i + 9, close);
          i = close + 3;
        } else if (s.startsWith("<!--", i)) {
          skipPast("-->");
        } else if (s.startsWith("<?", i)) {
          skipPast("?>");
        } else if (s.startsWith("<!", i)) {
          throw malformed("declarations are not accepted inside elements");
        } else {
          children.add(element(depth + 1));
        }
      } else if (c == '&') {
        text.append(entity());
      } else {
        text.append(c);
        i++;
      }
    }
  }

  private String name() throws MalformedException {
    int start = i;
    while (i < s.length()) {
      char c = s.charAt(i);
      if (Character.isWhitespace(c) || c == '>' || c == '/' || c == '<' || c == '=') {
        break;
      }
      i++;
    }
    if (i == start) {
      throw malformed("a tag without a name");
    }
    return s.substring(start, i);
  }

  private static String local(String qname) {
    int colon = qname.indexOf(':');
    return colon < 0 ? qname : qname.substring(colon + 1);
  }

  private String entity() throws MalformedException {
    int semi = s.indexOf(';', i);
    if (semi < 0 || semi - i > 12) {
      throw malformed("a bare '&'");
    }
    String e = s.substring(i + 1, semi);
    i = semi + 1;
    switch (e) {
      case "amp":
        return "&";
      case "lt":
        return "<";
      case "gt":
        return ">";
      case "quot":
        return "\"";
      case "apos":
        return "'";
      default:
        break;
    }
    try {
      if (e.startsWith("#x")) {
        return Character.toString(Integer.parseInt(e.substring(2), 16));
      }
      if (e.startsWith("#")) {
        return Character.toString(Integer.parseInt(e.substring(1)));
      }
    } catch (IllegalArgumentException bad) {
      throw malformed("a bad character reference &" + e + ";");
    }
    throw malformed("an unknown entity &" + e + ";");
  }

  private void skipPast(String end) throws MalformedException {
    int at = s.indexOf(end, i);
    if (at < 0) {
      throw malformed("'" + end + "' missing");
    }
    i = at + end.length();
  }

  private MalformedException malformed(String what) {
    return new MalformedException("malformed XML at character " + i + ": " + what);
  }
}
