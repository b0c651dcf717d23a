package dev.drainguard.config;

import dev.drainguard.drain.DeadlinePolicy;
import dev.drainguard.net.Endpoint;
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
    AwsEndpoints endpoints,
    Duration imdsPollInterval,
    Duration imdsStartupTimeout,
    boolean loopbackOnly,
    String logLevel,
    Path controlSocket,
    Optional<Integer> metricsPort,
    InetAddress metricsBind,
    Optional<Path> configFile) {

  public AgentConfig {
    queueRoots = List.copyOf(queueRoots);
  }

  /** The effective IMDS endpoint ({@link AwsEndpoints#imds()} has where it came from). */
  public URI imdsEndpoint() {
    return endpoints.imds().uri();
  }

  /**
   * The Auto Scaling endpoint URL that was set (drainguard's or the SDK's settings), empty for the
   * region's; {@link AwsEndpoints#autoScaling(String)} gives the effective one with its source.
   */
  public Optional<URI> autoScalingEndpoint() {
    return endpoints.autoScalingUrl().map(Endpoint::uri);
  }
}
