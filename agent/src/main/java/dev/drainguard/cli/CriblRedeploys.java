package dev.drainguard.cli;

import dev.drainguard.cribl.AutoResolution;
import dev.drainguard.cribl.CriblBuffer;
import dev.drainguard.cribl.CriblConfigWatcher;
import dev.drainguard.queue.ProbeSet;
import dev.drainguard.queue.QueueRootSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code queue-root auto} while the agent runs: when the leader deploys a configuration whose
 * outputs or inputs keep a buffer on a new path, the files probe watches that path from the next
 * check on ({@link CriblConfigWatcher#DEFAULT_INTERVAL}). Roots are only added: a path the new
 * configuration drops stays watched until restart, since an orphaned queue may still hold data.
 */
final class CriblRedeploys implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(CriblRedeploys.class);

  private final ScheduledExecutorService scheduler;
  private final CriblConfigWatcher watcher;

  private CriblRedeploys(ScheduledExecutorService scheduler, CriblConfigWatcher watcher) {
    this.scheduler = scheduler;
    this.watcher = watcher;
  }

  /**
   * Checks Cribl's configuration every {@code every} on a daemon thread of its own, and has {@code
   * probes} watch every root a new configuration adds; does nothing when {@code auto} is empty
   * ({@code queue-root auto} not in force).
   *
   * @param auto what {@code queue-root auto} resolved to at start
   * @param every how often to check; {@link CriblConfigWatcher#DEFAULT_INTERVAL} when empty
   */
  static CriblRedeploys start(
      Optional<AutoResolution> auto, ProbeSet probes, Optional<Duration> every) {
    if (auto.isEmpty()) {
      return new CriblRedeploys(null, null);
    }
    Duration interval = every.orElse(CriblConfigWatcher.DEFAULT_INTERVAL);
    ScheduledExecutorService scheduler =
        Executors.newSingleThreadScheduledExecutor(AgentParts.daemon("drainguard-cribl-config"));
    CriblConfigWatcher watcher =
        new CriblConfigWatcher(
            auto.get(), scheduler, interval, r -> logAdded(r, probes.addRoots(r.roots())));
    watcher.start();
    log.info(
        "watching cribl configuration for new local buffers home={} every={}",
        auto.get().request().home().home(),
        interval);
    return new CriblRedeploys(scheduler, watcher);
  }

  /** One WARN line per root added: the agent now holds a termination for it too. */
  static void logAdded(AutoResolution r, List<QueueRootSpec> added) {
    for (QueueRootSpec spec : added) {
      log.warn("queue root added while running root={} named by {}", spec.root(), namedBy(r, spec));
    }
  }

  /** The Cribl settings that put a local buffer in {@code spec}'s root, for the log. */
  static String namedBy(AutoResolution r, QueueRootSpec spec) {
    Path root = spec.root().toAbsolutePath().normalize();
    List<String> settings =
        r.inventory().buffers().stream()
            .filter(b -> b.exposure() == CriblBuffer.Exposure.HELD)
            .filter(b -> b.base().map(p -> p.normalize().equals(root)).orElse(false))
            .map(CriblBuffer::setting)
            .distinct()
            .toList();
    if (!settings.isEmpty()) {
      return String.join("; ", settings);
    }
    return root.equals(r.request().home().defaultQueues())
        ? "Cribl's default queue directory, which exists now"
        : "no current setting";
  }

  @Override
  public void close() {
    if (watcher != null) {
      // first: a check waiting for the files probe to walk a new root is interrupted, not awaited
      scheduler.shutdownNow();
      watcher.close();
    }
  }
}
