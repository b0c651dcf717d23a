package dev.drainguard.lifecycle;

import java.util.Objects;
import software.amazon.awssdk.awscore.exception.AwsServiceException;

/**
 * The one classification of Auto Scaling service errors: what is retried, what is the "No active
 * Lifecycle Action" state, what is final. Used only by {@link SdkLifecycleActions}.
 */
final class ApiFailures {

  static final String NO_ACTIVE_ACTION_MESSAGE = "No active Lifecycle Action found";

  private ApiFailures() {}

  /** How one AWS service error is handled. */
  enum Failure {
    /** Throttled: {@code Throttling}, {@code RequestLimitExceeded} (HTTP 400) or HTTP 429. */
    THROTTLED,
    /** HTTP 5xx. */
    SERVER,
    /** ValidationError "No active Lifecycle Action found …": a state, not an error. */
    NO_ACTIVE_ACTION,
    /** Anything else: retrying cannot help. */
    FINAL;

    boolean retried() {
      return this == THROTTLED || this == SERVER;
    }

    static Failure of(AwsServiceException e) {
      String code = code(e);
      String message = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorMessage();
      if ("ValidationError".equals(code)
          && message != null
          && message.contains(NO_ACTIVE_ACTION_MESSAGE)) {
        return NO_ACTIVE_ACTION;
      }
      if (LifecycleApiException.isThrottlingCode(code)
          || e.statusCode() == 429
          || e.isThrottlingException()) {
        return THROTTLED;
      }
      if (e.statusCode() >= 500) {
        return SERVER;
      }
      return FINAL;
    }
  }

  /** The exception kind of a failure that is still there after the last try. */
  static LifecycleApiException.Kind kind(Failure f) {
    return switch (f) {
      case THROTTLED -> LifecycleApiException.Kind.THROTTLED;
      case SERVER -> LifecycleApiException.Kind.UNAVAILABLE;
      case NO_ACTIVE_ACTION, FINAL -> LifecycleApiException.Kind.REJECTED;
    };
  }

  static String code(AwsServiceException e) {
    return e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
  }

  /** Falls back to the SDK's own message when the body was not an ErrorResponse (an HTML 500). */
  static String describe(AwsServiceException e) {
    String message = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorMessage();
    return String.format(
        "HTTP %d %s: %s",
        e.statusCode(),
        Objects.requireNonNullElse(code(e), "(no error code)"),
        message == null ? e.getMessage() : message);
  }

  static Throwable rootCause(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c;
  }
}
