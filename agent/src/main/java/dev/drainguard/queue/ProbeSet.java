package dev.drainguard.queue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every enabled queue source: the filesystem watcher, which reports on its own, and the scheduled
 * probes (a command, the Cribl API), each asked every probe interval on a thread of its own so that
 * a slow one cannot delay another. It forwards each reading, numbered in the order it was taken, to
 * its {@link Listener}; combining them is the decision core's job. Nothing here waits for a probe:
 * {@link #start()} returns at once and a probe is unknown until it answers.
 */
public final class ProbeSet implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ProbeSet.class);

  /** Where readings go, from the thread that took them. */
  public interface Listener {

    /**
     * A files snapshot: published by the watcher, or the result of {@link #confirm()}'s rescan.
     *
     * @param seq increases with every files snapshot the watcher tells, in the order they were
     *     taken; a rescan's result has the number of the moment it was asked (the watcher also
     *     tells the walk itself, with a higher one), so that nothing told after it is outranked
     */
    void files(QueueSnapshot snapshot, long seq, boolean rescan);

    /**
     * A scheduled probe's reading, taken by its schedule or by {@link #confirm()}.
     *
     * @param seq increases with every reading of that probe, in the order the reads started
     */
    void reading(ProbeReading reading, long seq);
  }

  private final QueueWatcher files;
  private final List<Probe> probes;
  private final Duration interval;
  private final Listener listener;
  private final Clock clock;
  private final AtomicLong filesSeq = new AtomicLong();
  private final Map<String, AtomicLong> seqs = new HashMap<>();
  private final Map<String, ProbeReading> lastLogged = new HashMap<>();
  private final List<ScheduledExecutorService> schedulers = new ArrayList<>();
  private final ExecutorService confirmations;

  /**
   * @param roots the filesystem probe's roots
   * @param reconcileInterval the filesystem probe's full rescan period
   * @param probes the scheduled probes, each with a distinct name
   * @param interval how often each scheduled probe is asked
   */
  public ProbeSet(
      List<QueueRootSpec> roots,
      Duration reconcileInterval,
      List<Probe> probes,
      Duration interval,
      Clock clock,
      Listener listener) {
    this.probes = List.copyOf(probes);
    this.interval = Objects.requireNonNull(interval, "interval");
    this.listener = Objects.requireNonNull(listener, "listener");
    this.clock = Objects.requireNonNull(clock, "clock");
    for (Probe p : this.probes) {
      if (p.name().equals(ProbeReading.FILES) || seqs.containsKey(p.name())) {
        throw new IllegalArgumentException("probe " + p.name() + " given twice");
      }
      seqs.put(p.name(), new AtomicLong());
    }
    this.files =
        new QueueWatcher(
            roots,
            reconcileInterval,
            clock,
            s -> listener.files(s, filesSeq.incrementAndGet(), false));
    this.confirmations = Executors.newCachedThreadPool(daemon("drainguard-confirm"));
  }

  /**
   * Checks that {@code rule} names only enabled probes.
   *
   * @throws IllegalArgumentException when it names one that is not configured
   */
  public static void checkRule(DrainedWhen rule, List<Probe> probes) {
    List<String> enabled = new ArrayList<>(List.of(ProbeReading.FILES));
    probes.forEach(p -> enabled.add(p.name()));
    for (String named : rule.named()) {
      if (!enabled.contains(named)) {
        throw new IllegalArgumentException(
            "drained-when names probe " + named + ", which is not configured");
      }
    }
  }

  /** What to do if the watcher thread dies; see {@link QueueWatcher#onDeath}. */
  public void onDeath(Runnable r) {
    files.onDeath(r);
  }

  /**
   * Whether termination has been noticed: the watcher then applies events within its urgent window
   * and tells a change of bytes alone within a second (see {@link QueueWatcher#setUrgent}); and
   * every change from twice that before {@code deadline}, so that what the deadline gives as lost
   * is what is on disk.
   */
  public void setUrgent(boolean urgent, Optional<Instant> deadline) {
    files.tellEveryChangeFrom(
        deadline
            .map(d -> d.minus(Publication.URGENT_BYTES_REFRESH.multipliedBy(2)))
            .orElse(Instant.MAX));
    files.setUrgent(urgent);
  }

  /** The watcher's view now; cheap. */
  public QueueSnapshot filesSnapshot() {
    return files.snapshot();
  }

  /**
   * The files probe watches {@code roots} too, from now on; see {@link QueueWatcher#addRoots}.
   *
   * @return the roots that were not watched yet
   */
  public List<QueueRootSpec> addRoots(List<QueueRootSpec> roots) {
    return files.addRoots(roots);
  }

  /** Starts the watcher and each probe's schedule (first read at once, on its own thread). */
  public void start() {
    files.start();
    for (Probe p : probes) {
      ScheduledExecutorService s =
          Executors.newSingleThreadScheduledExecutor(daemon("drainguard-probe-" + p.name()));
      schedulers.add(s);
      s.scheduleAtFixedRate(() -> ask(p), 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Asks for evidence that started now: a full rescan of the files roots and a fresh reading of
   * every probe, each on a thread of its own, each reported to the listener when it is done.
   */
  public CompletableFuture<Void> confirm() {
    List<CompletableFuture<Void>> reads = new ArrayList<>();
    try {
      // numbered now: the watcher tells the walk itself in order, and a batch told after the walk
      // must outrank this answer, which the confirming thread hands on later
      long seq = filesSeq.incrementAndGet();
      reads.add(
          CompletableFuture.runAsync(
              () -> listener.files(files.rescan(), seq, true), confirmations));
      for (Probe p : probes) {
        reads.add(CompletableFuture.runAsync(() -> ask(p), confirmations));
      }
    } catch (RejectedExecutionException e) {
      log.debug("confirmation after stop ignored");
    }
    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new));
  }

  @Override
  public void close() {
    schedulers.forEach(ScheduledExecutorService::shutdownNow);
    confirmations.shutdownNow();
    files.close();
  }

  /** One read; anything it throws is an unknown reading, and the schedule goes on. */
  private void ask(Probe p) {
    long seq = seqs.get(p.name()).incrementAndGet();
    java.time.Instant started = clock.instant();
    ProbeReading r;
    try {
      r = p.read();
    } catch (Throwable e) { // a bug in a probe must not end its schedule
      r = ProbeReading.unknown(p.name(), started, "probe failed: " + e);
      log.error("probe failed unexpectedly probe={}", p.name(), e);
    }
    logChange(r);
    listener.reading(r, seq);
  }

  private void logChange(ProbeReading now) {
    ProbeReading before;
    synchronized (lastLogged) {
      before = lastLogged.put(now.probe(), now);
    }
    if (now.unknown().isPresent()) {
      if (before == null || !now.unknown().equals(before.unknown())) {
        log.warn("probe cannot tell probe={} reason=\"{}\"", now.probe(), now.unknown().get());
      }
    } else if (before == null) {
      log.info("probe first reading probe={} bytes={}", now.probe(), now.bytes());
    } else if (before.unknown().isPresent()) {
      log.info("probe reads again probe={} bytes={}", now.probe(), now.bytes());
    } else {
      log.debug("probe reading probe={} bytes={} empty={}", now.probe(), now.bytes(), now.empty());
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}
