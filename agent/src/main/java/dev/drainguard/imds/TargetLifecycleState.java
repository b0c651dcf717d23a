package dev.drainguard.imds;

/**
 * What {@code latest/meta-data/autoscaling/target-lifecycle-state} says: the state the instance is
 * moving to. It reads {@code Terminated} as soon as termination starts, before the lifecycle action
 * is active.
 */
public enum TargetLifecycleState {
  IN_SERVICE,
  TERMINATED,
  STANDBY,
  DETACHED,
  /** Any {@code Warmed:*} state of a warm pool. */
  WARMED,
  /** IMDS answered 404: the instance is not in an Auto Scaling group. */
  NOT_IN_GROUP,
  /** A value this version does not know; kept visible instead of guessed. */
  UNKNOWN;

  /** Parses the raw IMDS value (surrounding whitespace ignored). */
  public static TargetLifecycleState parse(String raw) {
    String v = raw == null ? "" : raw.strip();
    if (v.startsWith("Warmed:")) {
      return WARMED;
    }
    return switch (v) {
      case "InService" -> IN_SERVICE;
      case "Terminated" -> TERMINATED;
      case "Standby" -> STANDBY;
      case "Detached" -> DETACHED;
      default -> UNKNOWN;
    };
  }
}
