package dev.drainguard.aws;

/** No credentials could be found, or the source that has them failed to give them. */
public final class CredentialsException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public CredentialsException(String message, Throwable cause) {
    super(message, cause);
  }
}
