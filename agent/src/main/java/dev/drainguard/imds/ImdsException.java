package dev.drainguard.imds;

/** IMDS could not answer a read after the adapter's retries. */
public final class ImdsException extends RuntimeException {
  public ImdsException(String message, Throwable cause) {
    super(message, cause);
  }
}
