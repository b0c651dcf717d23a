package dev.drainguard.drain;

import java.time.Duration;

/**
 * Scale-in protection while busy ({@code --protect-while-busy}).
 *
 * @param thresholdBytes queued bytes above which the instance is busy
 * @param after how long it must stay busy before it is protected
 * @param interval at most one change of protection per this interval
 * @param initiallyProtected the instance was protected from scale-in when the agent started
 */
public record ProtectionSettings(
    boolean enabled,
    long thresholdBytes,
    Duration after,
    Duration interval,
    boolean initiallyProtected) {

  public static final ProtectionSettings OFF =
      new ProtectionSettings(false, 0, Duration.ZERO, Duration.ZERO, false);

  /** Settings for an instance not protected at start. */
  public ProtectionSettings(
      boolean enabled, long thresholdBytes, Duration after, Duration interval) {
    this(enabled, thresholdBytes, after, interval, false);
  }
}
