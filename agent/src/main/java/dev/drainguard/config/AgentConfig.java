package dev.drainguard.config;

import dev.drainguard.drain.DeadlinePolicy;
import dev.drainguard.metrics.StatsdFlavor;
import dev.drainguard.queue.DrainedWhen;
import dev.drainguard.queue.QueueRootSpec;
import java.net.InetAddress;
import java.net.InetSocketAddress;
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
    Optional<Integer> metricsPort,
    InetAddress metricsBind,
    Optional<InetSocketAddress> statsdAddress,
    StatsdFlavor statsdFlavor,
    Duration stallAfter,
    Optional<Path> configFile) {

  public AgentConfig {
    queueRoots = List.copyOf(queueRoots);
  }
}
