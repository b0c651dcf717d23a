package dev.drainguard.sim;

/**
 * Builds the XML of the Auto Scaling Query protocol: {@code <ActionResponse>} envelopes with an
 * {@code <ActionResult>} and {@code <ResponseMetadata>}, and {@code <ErrorResponse>}.
 *
 * <p>The shapes follow the botocore service model ({@code autoscaling/2011-01-01}) and what moto's
 * server answers: lists are {@code <member>} elements, empty lists are self-closed.
 */
final class QueryXml {

  static final String NAMESPACE = "http://autoscaling.amazonaws.com/doc/2011-01-01/";

  private final StringBuilder xml = new StringBuilder();

  /** Opens {@code <name>}. */
  QueryXml open(String name) {
    xml.append('<').append(name).append('>');
    return this;
  }

  /** Closes {@code </name>}. */
  QueryXml close(String name) {
    xml.append("</").append(name).append('>');
    return this;
  }

  /** {@code <name>value</name>}, or nothing when {@code value} is null (an absent member). */
  QueryXml leaf(String name, Object value) {
    if (value != null) {
      open(name).text(value.toString()).close(name);
    }
    return this;
  }

  /** {@code <name/>}: an empty list or an empty result. */
  QueryXml empty(String name) {
    xml.append('<').append(name).append("/>");
    return this;
  }

  QueryXml text(String value) {
    xml.append(escape(value));
    return this;
  }

  @Override
  public String toString() {
    return xml.toString();
  }

  /**
   * {@code <ActionResponse xmlns=…><ActionResult>result</ActionResult><ResponseMetadata>…}; an
   * empty result is written {@code <ActionResult/>}.
   */
  static String response(String action, QueryXml result, String requestId) {
    QueryXml out = new QueryXml();
    out.xml.append('<').append(action).append("Response xmlns=\"").append(NAMESPACE).append("\">");
    String body = result.toString();
    if (body.isEmpty()) {
      out.empty(action + "Result");
    } else {
      out.open(action + "Result").xml.append(body);
      out.close(action + "Result");
    }
    out.open("ResponseMetadata").leaf("RequestId", requestId).close("ResponseMetadata");
    return out.close(action + "Response").toString();
  }

  /** {@code <ErrorResponse xmlns=…><Error><Type/><Code/><Message/></Error><RequestId/>…}. */
  static String error(String type, String code, String message, String requestId) {
    QueryXml out = new QueryXml();
    out.xml.append("<ErrorResponse xmlns=\"").append(NAMESPACE).append("\">");
    out.open("Error").leaf("Type", type).leaf("Code", code).leaf("Message", message).close("Error");
    return out.leaf("RequestId", requestId).close("ErrorResponse").toString();
  }

  static String escape(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> b.append("&amp;");
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&apos;");
        default -> b.append(c);
      }
    }
    return b.toString();
  }
}
