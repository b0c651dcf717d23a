package dev.drainguard.status;

/**
 * The control socket's protocol: one JSON object per line each way. A request names its protocol
 * version and an operation; a reply carries the same version, {@code ok}, and either the result or
 * an {@code error}.
 *
 * <pre>
 * → {"v":1,"op":"status"}
 * ← {"v":1,"ok":true,"status":{...}}
 * → {"v":1,"op":"release","force":false,"reason":"destination fixed"}
 * ← {"v":1,"ok":false,"error":"refused: 4096 bytes in 2 files are still queued; ..."}
 * </pre>
 *
 * <p>Who asks is what the kernel says about the connection, never a field of the request. {@code v}
 * is the number 1; a line holds exactly one object; a connection may carry a few requests, each
 * sent within seconds (see {@link ControlSession}).
 */
public final class ControlProtocol {

  /** The version this agent speaks; a request with another is answered with an error. */
  public static final int VERSION = 1;

  /**
   * A request line longer than this (in characters) is refused: a request is a few dozen bytes, a
   * reason at most {@link dev.drainguard.operator.OperatorText#MAX_REASON} characters, even with
   * every one of them escaped.
   */
  public static final int MAX_LINE = 8 * 1024;

  // Both sides read and write the protocol with ControlJson and JsonReader, without Jackson: the
  // agent answers a status without loading it, and the tests check ControlJson's text against
  // Jackson's (ControlJsonTest).

  private ControlProtocol() {}

  /** The operations a client may ask for. */
  public enum Op {
    STATUS,
    HOLD,
    RELEASE
  }

  /**
   * One request.
   *
   * @param v protocol version
   * @param op "status", "hold" or "release"
   */
  public record Request(Integer v, String op, String reason, Boolean force) {
    public static Request of(Op op, String reason, boolean force) {
      return new Request(VERSION, op.name().toLowerCase(java.util.Locale.ROOT), reason, force);
    }
  }

  /**
   * One reply.
   *
   * @param message what a hold or release did, for the operator
   * @param status the agent's status (every reply carries it when the agent could build it)
   */
  public record Reply(int v, boolean ok, String error, String message, StatusView status) {
    static Reply error(String error) {
      return new Reply(VERSION, false, error, null, null);
    }
  }
}
