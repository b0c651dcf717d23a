package dev.drainguard.check;

import dev.drainguard.cribl.AutoResolution;
import dev.drainguard.cribl.CriblHome;
import dev.drainguard.net.Endpoint;
import dev.drainguard.queue.DrainedWhen;
import dev.drainguard.queue.Probe;
import dev.drainguard.queue.QueueRootSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * What the checks need of the configuration and the command line.
 *
 * @param configSource where the configuration came from, e.g. {@code file /etc/drainguard/…}
 * @param maxUserWatches the file holding {@code fs.inotify.max_user_watches}; injectable for tests
 * @param user the user the checks run as, named in the fix for an unreadable root
 * @param queueRoots each root with the rules that judge it
 * @param probes the scheduled probes, each asked once
 * @param quietPeriod how long the queues must stay empty before the agent believes it
 * @param probeInterval how often the scheduled probes are asked
 * @param imdsEndpoint the effective IMDS endpoint, with where it came from
 * @param autoScalingEndpoint the effective Auto Scaling endpoint of a region, with where it came
 *     from (the region is known once IMDS answered)
 * @param criblHome Cribl's home, whose configuration is read for its local buffers; empty when
 *     Cribl is not installed where drainguard looks
 * @param queueRootAuto what {@code queue-root auto} resolved to, when it is in force
 */
public record CheckSettings(
    String configSource,
    Endpoint imdsEndpoint,
    Function<String, Endpoint> autoScalingEndpoint,
    Optional<String> region,
    Optional<String> groupName,
    boolean groupFromTags,
    Optional<String> hookName,
    Duration heartbeatInterval,
    Duration deadlineMargin,
    List<QueueRootSpec> queueRoots,
    List<Probe> probes,
    DrainedWhen drainedWhen,
    Duration quietPeriod,
    Duration probeInterval,
    boolean probeHeartbeat,
    Path maxUserWatches,
    String user,
    Optional<CriblHome> criblHome,
    Optional<AutoResolution> queueRootAuto) {

  public CheckSettings {
    queueRoots = List.copyOf(queueRoots);
    probes = List.copyOf(probes);
  }
}
