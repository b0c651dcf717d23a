package dev.drainguard.config;

import dev.drainguard.drain.DeadlinePolicy;
import dev.drainguard.queue.DrainedWhen;
import dev.drainguard.queue.QueueRootSpec;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** The validated configuration of {@code drainguard run}; see {@link Setting} for each field. */
public record AgentConfig(
    List<QueueRootSpec> queueRoots,
    Optional<String> queueProbeCommand,
    Optional<URI> criblApiUrl,
    Optional<Path> criblTokenFile,
    int criblWorkerProcesses,
    Duration probeInterval,
    Duration probeTimeout,
    DrainedWhen drainedWhen,
    Duration quietPeriod,
    Duration reconcileInterval,
    Duration heartbeatInterval,
    Duration actionGrace,
    DeadlinePolicy deadlinePolicy,
    Duration deadlineMargin,
    Optional<Duration> maxHold,
    Optional<String> beforeCompleteCommand,
    Optional<String> onTerminationCommand,
    Duration commandTimeout,
    boolean protectWhileBusy,
    long protectThreshold,
    Duration protectAfter,
    Duration protectInterval,
    Optional<String> groupName,
    boolean groupFromTags,
    Optional<String> hookName,
    Optional<String> region,
    URI imdsEndpoint,
    Optional<URI> autoScalingEndpoint,
    Duration imdsPollInterval,
    Duration imdsStartupTimeout,
    boolean loopbackOnly,
    String logLevel,
    Path controlSocket,
    String controlGroup,
    Optional<Path> stateDirectory,
    Optional<Integer> metricsPort,
    InetAddress metricsBind,
    boolean metricsAllowRemote,
    Optional<Path> configFile) {

  /**
   * @throws ConfigException for a metrics-bind that is not loopback without metrics-allow-remote,
   *     or at all with loopback-only
   */
  public AgentConfig {
    queueRoots = List.copyOf(queueRoots);
    if (!metricsBind.isLoopbackAddress() && (loopbackOnly || !metricsAllowRemote)) {
      throw new ConfigException(
          Setting.METRICS_BIND.where()
              + " "
              + metricsBind.getHostAddress()
              + " is not a loopback address: "
              + (loopbackOnly
                  ? "loopback-only is set, so metrics stay on this machine (127.0.0.1 or ::1)"
                  : "other hosts could read the metrics; set "
                      + Setting.METRICS_ALLOW_REMOTE.flag()
                      + " true to mean it, or bind 127.0.0.1"));
    }
  }
}
