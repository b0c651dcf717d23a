package dev.drainguard.sim;

import java.time.Instant;
import java.util.Map;

/**
 * One Auto Scaling request the simulator answered.
 *
 * @param at the simulator clock when the request arrived
 * @param action the {@code Action} parameter ({@code null} when the request had none)
 * @param params every form parameter of the request, in the order sent, including {@code Action}
 *     and {@code Version}
 * @param httpStatus the HTTP status answered
 * @param errorCode the {@code ErrorResponse} code answered, {@code null} when the call succeeded
 */
public record ApiCall(
    Instant at, String action, Map<String, String> params, int httpStatus, String errorCode) {

  /** True when the simulator answered 200. */
  public boolean succeeded() {
    return httpStatus == 200;
  }
}
