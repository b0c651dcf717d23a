package dev.drainguard.drain;

/**
 * The controller's answer to an operator's hold or release.
 *
 * @param accepted false when the controller refused, and {@link #message()} says why
 */
public record ControlResult(boolean accepted, String message) {
  static ControlResult accepted(String message) {
    return new ControlResult(true, message);
  }

  static ControlResult refused(String message) {
    return new ControlResult(false, message);
  }
}
