package dev.drainguard.cli;

/** A runtime failure the agent cannot get past; its message is the one line the operator sees. */
final class FatalException extends RuntimeException {
  FatalException(String message, Throwable cause) {
    super(message, cause);
  }
}
