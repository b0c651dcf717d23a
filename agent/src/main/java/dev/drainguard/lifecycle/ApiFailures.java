package dev.drainguard.lifecycle;

import dev.drainguard.aws.QueryXml;
import dev.drainguard.aws.QueryXml.Element;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The one classification of Auto Scaling service errors: what is retried, what is the "No active
 * Lifecycle Action" state, what is final. Used only by {@link QueryLifecycleActions}.
 */
final class ApiFailures {

  static final String NO_ACTIVE_ACTION_MESSAGE = "No active Lifecycle Action found";

  /**
   * Codes with which AWS refuses a signature by its time. They are a clock fault only when the
   * answer's Date header is minutes away from the agent's clock; otherwise they are final.
   */
  static final Set<String> SKEW_CODES =
      Set.of(
          "RequestTimeTooSkewed",
          "RequestExpired",
          "RequestInTheFuture",
          "InvalidSignatureException",
          "SignatureDoesNotMatch",
          "AuthFailure");

  /**
   * Codes with which AWS refuses the credentials themselves (expired or unknown keys): the provider
   * is asked for new ones once, then the refusal is final.
   */
  static final Set<String> CREDENTIALS_CODES =
      Set.of(
          "ExpiredToken",
          "ExpiredTokenException",
          "InvalidClientTokenId",
          "UnrecognizedClientException",
          "InvalidToken");

  private ApiFailures() {}

  /**
   * An error answer: its HTTP status and, when the body is a Query-API {@code ErrorResponse}, its
   * code and message ({@code null} when the body is not one, e.g. a load balancer's HTML 503).
   */
  record ServiceError(int status, String code, String message, String body) {

    static ServiceError of(int status, String body) {
      try {
        Optional<Element> error = QueryXml.parse(body).find("Error");
        if (error.isPresent()) {
          return new ServiceError(
              status,
              error.get().text("Code").orElse(null),
              error.get().text("Message").orElse(null),
              body);
        }
      } catch (QueryXml.MalformedException e) {
        // not XML: the status alone tells
      }
      return new ServiceError(status, null, null, body);
    }

    /** One line: status, code and message, or the start of the body when it had no message. */
    String describe() {
      String text = message != null ? message : body.strip();
      if (message == null && text.length() > 200) {
        text = text.substring(0, 200) + "…";
      }
      return String.format(
          "HTTP %d %s: %s",
          status, Objects.requireNonNullElse(code, "(no error code)"), text.replace('\n', ' '));
    }
  }

  /** How one AWS service error is handled. */
  enum Failure {
    /** Throttled: {@code Throttling}, {@code RequestLimitExceeded} (HTTP 400) or HTTP 429. */
    THROTTLED,
    /** HTTP 5xx. */
    SERVER,
    /** ValidationError "No active Lifecycle Action found …": a state, not an error. */
    NO_ACTIVE_ACTION,
    /** The signature's time was refused ({@link #SKEW_CODES}): maybe the agent's clock. */
    SKEWED,
    /** The credentials were refused ({@link #CREDENTIALS_CODES}): maybe rotated meanwhile. */
    CREDENTIALS_REFUSED,
    /** Anything else: retrying cannot help. */
    FINAL;

    boolean retried() {
      return this == THROTTLED || this == SERVER;
    }

    static Failure of(ServiceError e) {
      // A 5xx or a throttle first: whatever its body says, it is no answer about the action.
      if (LifecycleApiException.isThrottlingCode(e.code()) || e.status() == 429) {
        return THROTTLED;
      }
      if (e.status() >= 500) {
        return SERVER;
      }
      if ("ValidationError".equals(e.code())
          && e.message() != null
          && e.message().contains(NO_ACTIVE_ACTION_MESSAGE)) {
        return NO_ACTIVE_ACTION;
      }
      if (e.code() != null && SKEW_CODES.contains(e.code())) {
        return SKEWED;
      }
      if (e.code() != null && CREDENTIALS_CODES.contains(e.code())) {
        return CREDENTIALS_REFUSED;
      }
      return FINAL;
    }
  }

  /** The exception kind of a failure that is still there after the last try. */
  static LifecycleApiException.Kind kind(Failure f) {
    return switch (f) {
      case THROTTLED -> LifecycleApiException.Kind.THROTTLED;
      case SERVER -> LifecycleApiException.Kind.UNAVAILABLE;
      case NO_ACTIVE_ACTION, SKEWED, CREDENTIALS_REFUSED, FINAL ->
          LifecycleApiException.Kind.REJECTED;
    };
  }
}
