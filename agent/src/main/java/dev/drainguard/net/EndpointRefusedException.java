package dev.drainguard.net;

/** Thrown when loopback-only mode stops a request to a non-loopback endpoint. */
public final class EndpointRefusedException extends IllegalStateException {
  public EndpointRefusedException(String message) {
    super(message);
  }
}
