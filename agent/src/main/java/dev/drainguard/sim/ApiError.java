package dev.drainguard.sim;

/** An Auto Scaling {@code ErrorResponse} to answer instead of a result. */
final class ApiError extends RuntimeException {

  private final int httpStatus;
  private final String code;

  ApiError(int httpStatus, String code, String message) {
    super(message, null, false, false);
    this.httpStatus = httpStatus;
    this.code = code;
  }

  static ApiError validation(String message) {
    return new ApiError(400, "ValidationError", message);
  }

  /** The ValidationError for a required request member that is absent. */
  static ApiError missing(String member) {
    return validation(
        "1 validation error detected: Value null at '"
            + member
            + "' failed to satisfy constraint: Member must not be null");
  }

  /** A Query API boolean: {@code true} or {@code false}, else the ValidationError. */
  static boolean bool(String member, String value) {
    if (value == null) {
      throw missing(member);
    }
    return switch (value) {
      case "true" -> true;
      case "false" -> false;
      default ->
          throw validation(
              "1 validation error detected: Value '"
                  + value
                  + "' at '"
                  + member
                  + "' failed to satisfy constraint: Member must be true or false");
    };
  }

  static ApiError noActiveAction(String instanceId) {
    return validation("No active Lifecycle Action found with instance ID " + instanceId);
  }

  int httpStatus() {
    return httpStatus;
  }

  String code() {
    return code;
  }

  /** {@code Receiver} for server errors (5xx), {@code Sender} for everything else. */
  String type() {
    return httpStatus >= 500 ? "Receiver" : "Sender";
  }
}
