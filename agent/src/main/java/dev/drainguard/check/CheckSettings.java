package dev.drainguard.check;

import dev.drainguard.cribl.AutoResolution;
import dev.drainguard.cribl.CriblHome;
import dev.drainguard.queue.DrainedWhen;
import dev.drainguard.queue.Probe;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What the checks need of the configuration and the command line.
 *
 * @param configSource where the configuration came from, e.g. {@code file /etc/drainguard/…}
 * @param maxUserWatches the file holding {@code fs.inotify.max_user_watches}; injectable for tests
 * @param user the user the checks run as, named in the fix for an unreadable root
 * @param probes the scheduled probes, each asked once
 * @param criblHome Cribl's home, whose configuration is read for its local buffers; empty when
 *     Cribl is not installed where drainguard looks
 * @param queueRootAuto what {@code queue-root auto} resolved to, when it is in force
 */
public record CheckSettings(
    String configSource,
    URI imdsEndpoint,
    Optional<URI> autoScalingEndpoint,
    Optional<String> region,
    Optional<String> groupName,
    boolean groupFromTags,
    Optional<String> hookName,
    Duration heartbeatInterval,
    Duration deadlineMargin,
    List<Path> queueRoots,
    List<Probe> probes,
    DrainedWhen drainedWhen,
    boolean probeHeartbeat,
    Path maxUserWatches,
    String user,
    Optional<CriblHome> criblHome,
    Optional<AutoResolution> queueRootAuto) {

  public CheckSettings {
    queueRoots = List.copyOf(queueRoots);
    probes = List.copyOf(probes);
  }

  /** Without Cribl: its checks are skipped. */
  public CheckSettings(
      String configSource,
      URI imdsEndpoint,
      Optional<URI> autoScalingEndpoint,
      Optional<String> region,
      Optional<String> groupName,
      boolean groupFromTags,
      Optional<String> hookName,
      Duration heartbeatInterval,
      Duration deadlineMargin,
      List<Path> queueRoots,
      List<Probe> probes,
      DrainedWhen drainedWhen,
      boolean probeHeartbeat,
      Path maxUserWatches,
      String user) {
    this(
        configSource,
        imdsEndpoint,
        autoScalingEndpoint,
        region,
        groupName,
        groupFromTags,
        hookName,
        heartbeatInterval,
        deadlineMargin,
        queueRoots,
        probes,
        drainedWhen,
        probeHeartbeat,
        maxUserWatches,
        user,
        Optional.empty(),
        Optional.empty());
  }
}
