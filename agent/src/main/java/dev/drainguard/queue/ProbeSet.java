package dev.drainguard.queue;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every enabled probe behind the one {@link QueueProbe} seam the controller sees: the filesystem
 * watcher, which reports on its own, and the scheduled probes (a command, the Cribl API), each
 * asked every probe interval on a thread of its own so that a slow one cannot delay another. Their
 * readings are combined by {@link DrainedWhen}; a snapshot goes to the listener whenever a verdict
 * or a byte count changes.
 */
public final class ProbeSet implements QueueProbe {

  private static final Logger log = LoggerFactory.getLogger(ProbeSet.class);

  private final QueueWatcher files;
  private final List<Probe> probes;
  private final Duration interval;
  private final DrainedWhen rule;
  private final Clock clock;
  private final Consumer<QueueSnapshot> listener;
  private final Map<String, ProbeReading> latest = new LinkedHashMap<>();
  private final List<ScheduledExecutorService> schedulers = new ArrayList<>();
  private QueueSnapshot lastFiles;

  /**
   * @param roots the filesystem probe's roots
   * @param reconcileInterval the filesystem probe's full rescan period
   * @param probes the scheduled probes, each with a distinct name
   * @param interval how often each scheduled probe is asked
   * @param rule how the readings combine; every probe it names must be enabled
   * @param listener called with each snapshot whose verdict or bytes changed, from the thread that
   *     saw the change
   * @throws IllegalArgumentException when the rule names a probe that is not enabled
   */
  public ProbeSet(
      List<QueueRootSpec> roots,
      Duration reconcileInterval,
      List<Probe> probes,
      Duration interval,
      DrainedWhen rule,
      Clock clock,
      Consumer<QueueSnapshot> listener) {
    this.probes = List.copyOf(probes);
    this.interval = Objects.requireNonNull(interval, "interval");
    this.rule = Objects.requireNonNull(rule, "rule");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.listener = Objects.requireNonNull(listener, "listener");
    List<String> enabled = new ArrayList<>(List.of(ProbeReading.FILES));
    for (Probe p : this.probes) {
      if (enabled.contains(p.name())) {
        throw new IllegalArgumentException("probe " + p.name() + " given twice");
      }
      enabled.add(p.name());
      latest.put(p.name(), ProbeReading.unknown(p.name(), clock.instant(), "not read yet"));
    }
    for (String named : rule.named()) {
      if (!enabled.contains(named)) {
        throw new IllegalArgumentException(
            "drained-when names probe " + named + ", which is not configured");
      }
    }
    this.files = new QueueWatcher(roots, reconcileInterval, clock, this::onFiles);
  }

  /**
   * Starts the watcher and reads every scheduled probe once before returning, so the first snapshot
   * holds real readings; then asks each again every interval.
   */
  public void start() {
    files.start();
    for (Probe p : probes) {
      record(p.read());
      ScheduledExecutorService s =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "drainguard-probe-" + p.name());
                t.setDaemon(true);
                return t;
              });
      schedulers.add(s);
      s.scheduleAtFixedRate(
          () -> ask(p), interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** The probes' latest readings combined now; cheap. */
  @Override
  public QueueSnapshot snapshot() {
    QueueSnapshot fs = files.snapshot();
    synchronized (this) {
      return combine(fs);
    }
  }

  /** The rule the readings are combined by. */
  public DrainedWhen rule() {
    return rule;
  }

  @Override
  public void close() {
    schedulers.forEach(ScheduledExecutorService::shutdownNow);
    files.close();
  }

  private void ask(Probe p) {
    try {
      record(p.read());
    } catch (RuntimeException e) {
      // A probe reports what it cannot tell; this is a bug in one, and must not end its schedule.
      // The stack is logged once per new failure, not at every interval.
      ProbeReading failed = ProbeReading.unknown(p.name(), clock.instant(), "probe failed: " + e);
      synchronized (this) {
        if (!failed.sameVerdict(latest.get(p.name()))) {
          log.error("probe failed unexpectedly probe={}", p.name(), e);
        }
      }
      record(failed);
    }
  }

  private void onFiles(QueueSnapshot fs) {
    synchronized (this) {
      lastFiles = fs;
      listener.accept(combine(fs));
    }
  }

  private void record(ProbeReading reading) {
    synchronized (this) {
      ProbeReading before = latest.put(reading.probe(), reading);
      if (before != null && before.sameVerdict(reading)) {
        return;
      }
      logChange(before, reading);
      if (lastFiles != null) {
        listener.accept(combine(lastFiles));
      }
    }
  }

  private static void logChange(ProbeReading before, ProbeReading now) {
    if (now.unknown().isPresent()) {
      if (before == null || !now.unknown().equals(before.unknown())) {
        log.warn("probe cannot tell probe={} reason=\"{}\"", now.probe(), now.unknown().get());
      }
    } else if (before != null && before.unknown().isPresent()) {
      log.info("probe reads again probe={} bytes={}", now.probe(), now.bytes());
    } else {
      log.debug("probe reading probe={} bytes={} empty={}", now.probe(), now.bytes(), now.empty());
    }
  }

  private QueueSnapshot combine(QueueSnapshot fs) {
    List<ProbeReading> readings = new ArrayList<>(1 + latest.size());
    ProbeReading filesReading = fs.probes().get(0);
    readings.add(filesReading.withDeciding(rule.decides(filesReading.probe())));
    for (ProbeReading r : latest.values()) {
      readings.add(r.withDeciding(rule.decides(r.probe())));
    }
    return new QueueSnapshot(clock.instant(), fs.roots(), readings, rule.empty(readings));
  }
}
