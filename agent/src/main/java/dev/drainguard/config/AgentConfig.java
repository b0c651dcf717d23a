package dev.drainguard.config;

import dev.drainguard.cribl.AutoResolution;
import dev.drainguard.cribl.CriblHome;
import dev.drainguard.drain.DeadlinePolicy;
import dev.drainguard.metrics.StatsdFlavor;
import dev.drainguard.net.Endpoint;
import dev.drainguard.queue.DrainedWhen;
import dev.drainguard.queue.QueueRootSpec;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The validated configuration of {@code drainguard run}; see {@link Setting} for each field.
 *
 * @param queueRoots every root to watch, {@code queue-root auto}'s already resolved
 * @param criblHome Cribl's home on this worker, when it exists or {@code auto} asked for it
 * @param queueRootAuto what {@code queue-root auto} resolved to at load, when it is in force: the
 *     roots to start with, and what a watcher of Cribl's configuration re-resolves from
 */
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
    String controlGroup,
    Optional<Path> stateDirectory,
    Optional<Integer> metricsPort,
    InetAddress metricsBind,
    Optional<InetSocketAddress> statsdAddress,
    StatsdFlavor statsdFlavor,
    Duration stallAfter,
    boolean metricsAllowRemote,
    Optional<Path> configFile,
    Optional<CriblHome> criblHome,
    Optional<AutoResolution> queueRootAuto) {

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
