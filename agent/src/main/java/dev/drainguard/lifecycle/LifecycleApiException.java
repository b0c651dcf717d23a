package dev.drainguard.lifecycle;

import java.util.Objects;
import java.util.Set;

/**
 * An Auto Scaling call failed after retries, or failed in a way retries cannot fix. {@link #kind()}
 * says which, as the adapter classified it once: a {@link Kind#THROTTLED} or {@link
 * Kind#UNAVAILABLE} failure says nothing about the instance or its action (a describe that failed
 * so is never an answer, least of all "not in the group"); only {@link Kind#REJECTED} is final.
 */
public final class LifecycleApiException extends RuntimeException {

  /** How a failed call failed. */
  public enum Kind {
    /**
     * Auto Scaling throttled the call (HTTP 400 {@code Throttling}, {@code RequestLimitExceeded}
     * and the like, or HTTP 429) on every try: ask again later, with backoff.
     */
    THROTTLED,
    /** HTTP 5xx, a transport failure or a timeout on every try: ask again later. */
    UNAVAILABLE,
    /** Refused for a reason retrying cannot fix (AccessDenied, a ValidationError, …). */
    REJECTED
  }

  /**
   * The error codes of a throttled request: the Query API's {@code Throttling} and EC2-style {@code
   * RequestLimitExceeded} come with HTTP 400, the others are the AWS SDK for Java's list of
   * throttling codes (2.41, {@code AwsErrorCode}), which it treated so before the agent spoke the
   * API itself.
   */
  static final Set<String> THROTTLING_CODES =
      Set.of(
          "Throttling",
          "ThrottlingException",
          "ThrottledException",
          "ProvisionedThroughputExceededException",
          "SlowDown",
          "TooManyRequestsException",
          "RequestLimitExceeded",
          "BandwidthLimitExceeded",
          "RequestThrottled",
          "RequestThrottledException",
          "EC2ThrottledException",
          "TransactionInProgressException");

  private final String errorCode;
  private final Kind kind;

  /**
   * A failure whose kind follows from its error code: a throttling code is {@link Kind#THROTTLED},
   * no code (transport, or a 5xx without an error body) {@link Kind#UNAVAILABLE}, any other code
   * {@link Kind#REJECTED}.
   */
  public LifecycleApiException(String message, String errorCode, Throwable cause) {
    this(message, errorCode, kindOf(errorCode), cause);
  }

  public LifecycleApiException(String message, String errorCode, Kind kind, Throwable cause) {
    super(message, cause);
    this.errorCode = errorCode;
    this.kind = Objects.requireNonNull(kind, "kind");
  }

  /** The AWS error code (e.g. {@code AccessDenied}), or {@code null} for transport failures. */
  public String errorCode() {
    return errorCode;
  }

  public Kind kind() {
    return kind;
  }

  /** True when the same call may succeed later: throttled or unavailable, not rejected. */
  public boolean transientFailure() {
    return kind != Kind.REJECTED;
  }

  static boolean isThrottlingCode(String errorCode) {
    return errorCode != null && THROTTLING_CODES.contains(errorCode);
  }

  private static Kind kindOf(String errorCode) {
    if (errorCode == null) {
      return Kind.UNAVAILABLE;
    }
    return isThrottlingCode(errorCode) ? Kind.THROTTLED : Kind.REJECTED;
  }
}
