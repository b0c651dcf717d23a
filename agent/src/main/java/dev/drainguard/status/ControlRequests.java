package dev.drainguard.status;

import dev.drainguard.drain.ControlResult;
import dev.drainguard.operator.Caller;
import dev.drainguard.operator.OperatorText;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request line, read strictly and answered: exactly one JSON object, {@code v} the number
 * {@value ControlProtocol#VERSION} (not the string "1"), {@code op} a known operation, {@code
 * reason} a string of at most {@link OperatorText#MAX_REASON} characters, {@code force} a boolean.
 * Anything else gets an error reply; nothing a client sends reaches a log or a reply unescaped.
 */
final class ControlRequests {

  private static final Logger log = LoggerFactory.getLogger(ControlRequests.class);

  /** How much of an unknown op an error reply repeats. */
  static final int MAX_ECHO = 40;

  private final ControlHandler handler;

  ControlRequests(ControlHandler handler) {
    this.handler = handler;
  }

  ControlProtocol.Reply answer(String line, Caller caller) {
    Object tree;
    try {
      JsonReader r = new JsonReader(line);
      tree = r.value();
      r.end();
    } catch (IOException | RuntimeException e) {
      return ControlProtocol.Reply.error(
          "malformed request: expected exactly one JSON object per line, like"
              + " {\"v\":1,\"op\":\"status\"}");
    }
    if (!(tree instanceof JsonReader.Obj req)) {
      return ControlProtocol.Reply.error(
          "malformed request: expected a JSON object, like {\"v\":1,\"op\":\"status\"}");
    }
    Object v = req.get("v");
    if (!isOne(v)) {
      return ControlProtocol.Reply.error(
          "unsupported protocol version "
              + echo(req, "v")
              + ": this agent speaks v"
              + ControlProtocol.VERSION
              + ", the number, as in {\"v\":1,...}");
    }
    Object opNode = req.get("op");
    ControlProtocol.Op op = opNode instanceof String name ? op(name) : null;
    if (op == null) {
      return ControlProtocol.Reply.error(
          "unknown op " + echo(req, "op") + ": expected \"status\", \"hold\" or \"release\"");
    }
    Object reasonNode = req.get("reason");
    if (reasonNode != null && !(reasonNode instanceof String)) {
      return ControlProtocol.Reply.error("reason must be a string");
    }
    String reason = (String) reasonNode;
    if (reason != null && reason.length() > OperatorText.MAX_REASON) {
      return ControlProtocol.Reply.error(
          "reason is "
              + reason.length()
              + " characters long: at most "
              + OperatorText.MAX_REASON
              + " are taken");
    }
    Object forceNode = req.get("force");
    if (forceNode != null && !(forceNode instanceof Boolean)) {
      return ControlProtocol.Reply.error("force must be true or false");
    }
    boolean force = Boolean.TRUE.equals(forceNode);
    try {
      return switch (op) {
        case STATUS -> reply(null, handler.status());
        case HOLD -> reply(handler.hold(caller, reason), handler.status());
        case RELEASE -> reply(handler.release(caller, force, reason), handler.status());
      };
    } catch (RuntimeException e) {
      log.warn(
          "control request failed op={} uid={} user={} error={}",
          op,
          caller.uid(),
          caller.user(),
          e.toString());
      return ControlProtocol.Reply.error(op.name().toLowerCase(Locale.ROOT) + " failed: " + e);
    }
  }

  /** Whether {@code v} is the JSON number 1, written as an integer (not "1", 1.0 or 1e0). */
  private static boolean isOne(Object v) {
    return v instanceof JsonReader.Num n && n.value() instanceof Long l && l == 1L;
  }

  /** A value the client sent, fit to repeat in a reply: short, escaped, its type told. */
  private static String echo(JsonReader.Obj req, String name) {
    if (!req.members().containsKey(name)) {
      return "(none)";
    }
    Object node = req.get(name);
    return node instanceof String text
        ? "'" + OperatorText.clean(text, MAX_ECHO) + "'"
        : OperatorText.clean(compact(node), MAX_ECHO) + " (" + JsonReader.kind(node) + ")";
  }

  /** A value read by {@link JsonReader}, written back as compact JSON. */
  private static String compact(Object node) {
    StringBuilder b = new StringBuilder();
    compact(b, node);
    return b.toString();
  }

  private static void compact(StringBuilder b, Object node) {
    if (node instanceof JsonReader.Obj o) {
      b.append('{');
      boolean first = true;
      for (Map.Entry<String, Object> e : o.members().entrySet()) {
        b.append(first ? "" : ",");
        first = false;
        ControlJson.string(b, e.getKey());
        b.append(':');
        compact(b, e.getValue());
        if (b.length() > MAX_ECHO * 4) {
          return; // cleaned to MAX_ECHO anyway
        }
      }
      b.append('}');
    } else if (node instanceof List<?> list) {
      b.append('[');
      for (int i = 0; i < list.size() && b.length() <= MAX_ECHO * 4; i++) {
        b.append(i > 0 ? "," : "");
        compact(b, list.get(i));
      }
      b.append(']');
    } else if (node instanceof String text) {
      ControlJson.string(b, text);
    } else {
      b.append(node); // Num (its text), Boolean, null
    }
  }

  private static ControlProtocol.Op op(String name) {
    for (ControlProtocol.Op op : ControlProtocol.Op.values()) {
      if (op.name().toLowerCase(Locale.ROOT).equals(name)) {
        return op;
      }
    }
    return null;
  }

  private static ControlProtocol.Reply reply(ControlResult result, StatusView status) {
    if (result == null) {
      return new ControlProtocol.Reply(ControlProtocol.VERSION, true, null, null, status);
    }
    return new ControlProtocol.Reply(
        ControlProtocol.VERSION,
        result.accepted(),
        result.accepted() ? null : result.message(),
        result.accepted() ? result.message() : null,
        status);
  }
}
