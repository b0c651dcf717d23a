package dev.drainguard.sim;

import java.time.Duration;

/**
 * A termination lifecycle hook ({@code autoscaling:EC2_INSTANCE_TERMINATING}) of a simulated group.
 */
record SimHook(
    String groupName,
    String name,
    Duration heartbeatTimeout,
    Duration globalTimeout,
    String defaultResult) {

  static final String TERMINATING_TRANSITION = "autoscaling:EC2_INSTANCE_TERMINATING";

  /** HeartbeatTimeout of a hook created without one (PutLifecycleHook's default). */
  static final Duration DEFAULT_HEARTBEAT_TIMEOUT = Duration.ofSeconds(3600);

  /** Auto Scaling caps the global timeout at 48 hours. */
  static final Duration MAX_GLOBAL_TIMEOUT = Duration.ofHours(48);

  /** Auto Scaling's global timeout is 100 heartbeat timeouts, at most 48 hours. */
  static final int GLOBAL_TIMEOUT_FACTOR = 100;

  static SimHook of(
      String groupName, String name, Duration heartbeatTimeout, String defaultResult) {
    if (heartbeatTimeout.isNegative() || heartbeatTimeout.isZero()) {
      throw new IllegalArgumentException(
          "heartbeat timeout must be positive for hook=" + name + ": " + heartbeatTimeout);
    }
    if (!SimInstance.CONTINUE.equals(defaultResult) && !SimInstance.ABANDON.equals(defaultResult)) {
      throw new IllegalArgumentException(
          "default result must be CONTINUE or ABANDON for hook=" + name + ": " + defaultResult);
    }
    Duration global = heartbeatTimeout.multipliedBy(GLOBAL_TIMEOUT_FACTOR);
    if (global.compareTo(MAX_GLOBAL_TIMEOUT) > 0) {
      global = MAX_GLOBAL_TIMEOUT;
    }
    return new SimHook(groupName, name, heartbeatTimeout, global, defaultResult);
  }
}
