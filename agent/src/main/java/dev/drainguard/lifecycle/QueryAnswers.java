package dev.drainguard.lifecycle;

import dev.drainguard.aws.QueryXml.Element;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The Auto Scaling Query API's requests and answers as {@link QueryLifecycleActions} writes and
 * reads them: the form a call is posted as, and the fields every answer of a call has. A field an
 * answer must have and lacks is an {@link IllegalArgumentException}: the exchange was at fault, and
 * it is never read as an empty answer.
 */
final class QueryAnswers {

  private QueryAnswers() {}

  /** {@code Action}, {@code Version} and the parameters, form-encoded as the SDKs encode them. */
  static byte[] form(String action, Map<String, String> params) {
    StringBuilder b = new StringBuilder("Action=").append(encode(action));
    b.append("&Version=").append(QueryLifecycleActions.API_VERSION);
    params.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(
            e -> b.append('&').append(encode(e.getKey())).append('=').append(encode(e.getValue())));
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8)
        .replace("+", "%20")
        .replace("*", "%2A")
        .replace("%7E", "~");
  }

  /**
   * The members of a result's list. The list element itself must be there (every answer of the call
   * has it, empty or not): an answer without it is not read as an empty list.
   */
  static List<Element> members(Element result, String list) {
    if (!result.name().endsWith("Result")) {
      throw new IllegalArgumentException("no result element in <" + result.name() + ">");
    }
    return result
        .child(list)
        .map(l -> l.all("member"))
        .orElseThrow(() -> new IllegalArgumentException("no " + list + " in " + result.name()));
  }

  static TerminationHook hook(Element h) {
    try {
      return new TerminationHook(
          required(h, "LifecycleHookName"),
          Duration.ofSeconds(Long.parseLong(required(h, "HeartbeatTimeout"))),
          Duration.ofSeconds(Long.parseLong(required(h, "GlobalTimeout"))),
          LifecycleResult.valueOf(required(h, "DefaultResult").toUpperCase(Locale.ROOT)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("a timeout that is not a number in a lifecycle hook", e);
    }
  }

  static GroupMembership membership(Element d) {
    return new GroupMembership(
        required(d, "AutoScalingGroupName"),
        required(d, "LifecycleState"),
        "true".equals(d.text("ProtectedFromScaleIn").orElse("false")));
  }

  private static String required(Element e, String name) {
    return e.text(name)
        .filter(t -> !t.isEmpty())
        .orElseThrow(() -> new IllegalArgumentException("no " + name + " in " + e.name()));
  }
}
