package dev.drainguard.drain;

import dev.drainguard.forecast.ForecastSettings;
import java.time.Duration;
import java.util.Optional;

/**
 * What the controller needs of the configuration.
 *
 * @param heartbeatInterval the configured interval; the controller uses min(this,
 *     HeartbeatTimeout/3)
 * @param actionGrace how long "No active Lifecycle Action" means "not active yet"
 * @param deadlineMargin subtracted from the hook's global timeout
 * @param maxHold an optional earlier deadline, counted from the notice
 * @param forecast how the drain rate is measured and when a queue counts as stalled
 */
public record DrainSettings(
    Duration quietPeriod,
    Duration heartbeatInterval,
    Duration actionGrace,
    DeadlinePolicy deadlinePolicy,
    Duration deadlineMargin,
    Optional<Duration> maxHold,
    Duration imdsPollInterval,
    Optional<String> beforeCompleteCommand,
    Duration commandTimeout,
    Optional<String> onTerminationCommand,
    ProtectionSettings protection,
    ForecastSettings forecast) {

  /** With the forecast's defaults. */
  public DrainSettings(
      Duration quietPeriod,
      Duration heartbeatInterval,
      Duration actionGrace,
      DeadlinePolicy deadlinePolicy,
      Duration deadlineMargin,
      Optional<Duration> maxHold,
      Duration imdsPollInterval,
      Optional<String> beforeCompleteCommand,
      Duration commandTimeout,
      Optional<String> onTerminationCommand,
      ProtectionSettings protection) {
    this(
        quietPeriod,
        heartbeatInterval,
        actionGrace,
        deadlinePolicy,
        deadlineMargin,
        maxHold,
        imdsPollInterval,
        beforeCompleteCommand,
        commandTimeout,
        onTerminationCommand,
        protection,
        ForecastSettings.defaults());
  }
}
