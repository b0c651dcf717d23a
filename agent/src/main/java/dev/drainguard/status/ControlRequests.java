package dev.drainguard.status;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.drainguard.drain.ControlResult;
import dev.drainguard.operator.Caller;
import dev.drainguard.operator.OperatorText;
import java.util.Locale;
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

  private static final ObjectReader TREE =
      ControlProtocol.JSON.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private final ControlHandler handler;

  ControlRequests(ControlHandler handler) {
    this.handler = handler;
  }

  ControlProtocol.Reply answer(String line, Caller caller) {
    JsonNode req;
    try {
      req = TREE.readTree(line);
    } catch (JsonProcessingException e) {
      return ControlProtocol.Reply.error(
          "malformed request: expected exactly one JSON object per line, like"
              + " {\"v\":1,\"op\":\"status\"}");
    }
    if (req == null || !req.isObject()) {
      return ControlProtocol.Reply.error(
          "malformed request: expected a JSON object, like {\"v\":1,\"op\":\"status\"}");
    }
    JsonNode v = req.get("v");
    if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() != 1) {
      return ControlProtocol.Reply.error(
          "unsupported protocol version "
              + echo(v)
              + ": this agent speaks v"
              + ControlProtocol.VERSION
              + ", the number, as in {\"v\":1,...}");
    }
    JsonNode opNode = req.get("op");
    ControlProtocol.Op op = opNode != null && opNode.isTextual() ? op(opNode.textValue()) : null;
    if (op == null) {
      return ControlProtocol.Reply.error(
          "unknown op " + echo(opNode) + ": expected \"status\", \"hold\" or \"release\"");
    }
    JsonNode reasonNode = req.get("reason");
    if (reasonNode != null && !reasonNode.isNull() && !reasonNode.isTextual()) {
      return ControlProtocol.Reply.error("reason must be a string");
    }
    String reason = reasonNode == null || reasonNode.isNull() ? null : reasonNode.textValue();
    if (reason != null && reason.length() > OperatorText.MAX_REASON) {
      return ControlProtocol.Reply.error(
          "reason is "
              + reason.length()
              + " characters long: at most "
              + OperatorText.MAX_REASON
              + " are taken");
    }
    JsonNode forceNode = req.get("force");
    if (forceNode != null && !forceNode.isNull() && !forceNode.isBoolean()) {
      return ControlProtocol.Reply.error("force must be true or false");
    }
    boolean force = forceNode != null && forceNode.booleanValue();
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

  /** A value the client sent, fit to repeat in a reply: short, escaped, its type told. */
  private static String echo(JsonNode node) {
    if (node == null) {
      return "(none)";
    }
    return node.isTextual()
        ? "'" + OperatorText.clean(node.textValue(), MAX_ECHO) + "'"
        : OperatorText.clean(node.toString(), MAX_ECHO) + " (" + node.getNodeType() + ")";
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
