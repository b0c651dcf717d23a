package dev.drainguard.cribl;

import dev.drainguard.queue.QueueRootSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices when the leader deploys a new configuration to this worker and resolves {@code queue-root
 * auto} again, so that a queue on a new path is watched from then on.
 *
 * <p>Each check compares the size, modification time and file identity (inode) of the files Cribl
 * loads with the previous check's: a handful of stat calls, no parsing unless one changed. A
 * changed file is logged and read again; the listener hears of it only when the roots changed. The
 * first check always reads the files: the initial resolution was read at the agent's start, perhaps
 * minutes before (IMDS and hook discovery retried), and a deployment meanwhile must count.
 *
 * <p>Roots are only ever added while the agent runs. A directory the new configuration no longer
 * names stays watched: the queue of a destination just removed may still hold data, and only a
 * restart (which reads the configuration afresh) lets it go.
 */
public final class CriblConfigWatcher implements AutoCloseable {

  /**
   * Cribl workers ask their leader for a new configuration every 10 s by default (Cribl Stream
   * docs, Distributed Deployment): checking at the same pace finds a deployment within one more
   * poll, for about a dozen stat calls.
   */
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);

  private static final Logger log = LoggerFactory.getLogger(CriblConfigWatcher.class);

  private final AutoRoots request;
  private final ScheduledExecutorService scheduler;
  private final Duration interval;
  private final Consumer<AutoResolution> listener;
  private volatile AutoResolution current;

  /** The files' stamps at the last check; null before the first. */
  private Map<Path, String> stamps;

  private ScheduledFuture<?> task;

  /**
   * @param initial the resolution the agent started with
   * @param scheduler runs the checks; stays the caller's (not shut down by {@link #close()})
   * @param listener told the new resolution (its roots a superset of the previous ones) when the
   *     roots change; runs on the scheduler's thread
   */
  public CriblConfigWatcher(
      AutoResolution initial,
      ScheduledExecutorService scheduler,
      Duration interval,
      Consumer<AutoResolution> listener) {
    this.current = Objects.requireNonNull(initial, "initial");
    this.request = initial.request();
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.interval = Objects.requireNonNull(interval, "interval");
    this.listener = Objects.requireNonNull(listener, "listener");
  }

  /** Checks every {@code interval} from now on. */
  public synchronized void start() {
    if (task == null) {
      long ms = interval.toMillis();
      task = scheduler.scheduleWithFixedDelay(this::checkLogged, ms, ms, TimeUnit.MILLISECONDS);
    }
  }

  /** The roots now: those the agent started with, plus every root added since. */
  public AutoResolution current() {
    return current;
  }

  private void checkLogged() {
    try {
      check();
    } catch (Throwable t) { // a dead schedule would stop noticing deployments for good
      log.error("cribl configuration check failed home={}", request.home().home(), t);
    }
  }

  /**
   * One check: when any configuration file changed since the last, reads them again and tells the
   * listener if the roots grew.
   *
   * @return true when the roots changed
   */
  synchronized boolean check() {
    Map<Path, String> now = stamps();
    if (now.equals(stamps)) {
      return false;
    }
    boolean first = stamps == null;
    stamps = now;
    AutoResolution fresh = request.resolve();
    List<QueueRootSpec> roots = new ArrayList<>(fresh.roots());
    List<Path> discovered = new ArrayList<>(fresh.discovered());
    for (QueueRootSpec kept : current.roots()) {
      if (roots.stream().noneMatch(r -> r.root().equals(kept.root()))) {
        roots.add(kept);
        discovered.add(kept.root());
        log.info(
            "cribl configuration no longer names root={}: still watched until restart",
            kept.root());
      }
    }
    AutoResolution merged =
        new AutoResolution(request, roots, discovered, fresh.inventory(), fresh.fallback());
    boolean changed = !Set.copyOf(merged.roots()).equals(Set.copyOf(current.roots()));
    if (!first || changed || !fresh.inventory().equals(current.inventory())) {
      merged.log("after a configuration change"); // the first check: only if it changed since
    }
    current = merged;
    if (changed) {
      listener.accept(merged);
    }
    return changed;
  }

  /** Size, modification time and identity of each file, or why it has none. */
  private Map<Path, String> stamps() {
    Map<Path, String> out = new LinkedHashMap<>();
    for (Path f : request.home().configFiles()) {
      String stamp;
      try {
        BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
        stamp = a.size() + "/" + a.lastModifiedTime().toInstant() + "/" + a.fileKey();
      } catch (NoSuchFileException e) {
        stamp = "absent";
      } catch (IOException e) {
        stamp = "unreadable: " + e;
      }
      out.put(f, stamp);
    }
    return out;
  }

  @Override
  public synchronized void close() {
    if (task != null) {
      task.cancel(false);
    }
  }
}
