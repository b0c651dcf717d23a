package dev.drainguard.drain;

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
    ProtectionSettings protection) {}
