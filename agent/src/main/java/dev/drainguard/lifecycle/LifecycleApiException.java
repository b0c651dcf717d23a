package dev.drainguard.lifecycle;

/** An Auto Scaling call failed after retries, or failed in a way retries cannot fix. */
public final class LifecycleApiException extends RuntimeException {

  private final String errorCode;

  public LifecycleApiException(String message, String errorCode, Throwable cause) {
    super(message, cause);
    this.errorCode = errorCode;
  }

  /** The AWS error code (e.g. {@code AccessDenied}), or {@code null} for transport failures. */
  public String errorCode() {
    return errorCode;
  }
}
