package dev.drainguard.drain;

import dev.drainguard.queue.DrainedWhen;
import dev.drainguard.queue.ProbeReading;
import dev.drainguard.queue.QueueSnapshot;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the queue sources have said, with the age of each reading (see DESIGN.md, "Evidence and
 * irreversible steps"):
 *
 * <ul>
 *   <li>an older reading never replaces a newer one of the same source;
 *   <li>a scheduled probe's reading older than its interval + timeout counts as unknown;
 *   <li>the quiet period starts at the last instant the verdict was not empty (data seen, or a
 *       deciding source that cannot tell), and that instant only moves forward — a late reading
 *       that saw data moves it to the instant it arrived;
 *   <li>empty is confirmed only by a reading of every deciding source that started after the quiet
 *       period ended: a full rescan for the files root, a fresh read for a probe.
 * </ul>
 *
 * Touched only on the decision thread.
 */
final class Evidence {

  private final DrainedWhen rule;
  private final Duration quietPeriod;
  private final Map<String, Duration> maxAge;

  /** The latest reading of every source by its start instant, files first. */
  private final Map<String, ProbeReading> latest = new LinkedHashMap<>();

  /** Per source, the sequence number of its latest reading. */
  private final Map<String, Long> latestSeq = new LinkedHashMap<>();

  /** Per source, the start of its latest empty reading fit to confirm (a rescan, for files). */
  private final Map<String, Instant> confirmingSince = new LinkedHashMap<>();

  private QueueSnapshot files;
  private Instant lastNotEmpty;

  /**
   * @param probes the scheduled probes' names, each with how old its reading may be (its interval +
   *     timeout) before it counts as unknown
   * @param start the agent's start: nothing is known before it, so the quiet period runs from it
   */
  Evidence(
      DrainedWhen rule,
      Duration quietPeriod,
      Map<String, Duration> probes,
      QueueSnapshot firstFiles,
      Instant start) {
    this.rule = rule;
    this.quietPeriod = quietPeriod;
    this.maxAge = Map.copyOf(probes);
    this.files = firstFiles;
    this.lastNotEmpty = start;
    latest.put(ProbeReading.FILES, firstFiles.probes().get(0));
    for (String p : probes.keySet()) {
      latest.put(p, ProbeReading.unknown(p, start, "not read yet"));
    }
  }

  /** Notes whether the verdict is not empty at {@code now}; called before and after every event. */
  void observe(Instant now) {
    if (!verdict(now).empty() && now.isAfter(lastNotEmpty)) {
      lastNotEmpty = now;
    }
  }

  /** A files snapshot (published by the watcher, or a rescan) that arrived at {@code now}. */
  void onFiles(QueueSnapshot fs, long seq, boolean rescan, Instant now) {
    ProbeReading r = fs.probes().get(0);
    if (newer(ProbeReading.FILES, seq)) {
      files = fs;
      latest.put(ProbeReading.FILES, r);
    }
    record(r, rescan, now);
  }

  /**
   * Whether a reading with {@code seq} is newer than the one kept: each source numbers its readings
   * in the order they were taken, which a clock stepped backwards cannot reorder.
   */
  private boolean newer(String source, long seq) {
    if (seq <= latestSeq.getOrDefault(source, Long.MIN_VALUE)) {
      return false;
    }
    latestSeq.put(source, seq);
    return true;
  }

  /** A scheduled probe's reading that arrived at {@code now}. */
  void onProbe(ProbeReading r, long seq, Instant now) {
    ProbeReading before = latest.get(r.probe());
    if (before == null) {
      return; // not a configured probe
    }
    if (newer(r.probe(), seq)) {
      latest.put(r.probe(), r);
    }
    record(r, true, now);
  }

  /** Something may have written to the queues (a command ran): the quiet period starts again. */
  void restartQuietPeriod(Instant now) {
    if (now.isAfter(lastNotEmpty)) {
      lastNotEmpty = now;
    }
  }

  private void record(ProbeReading r, boolean confirming, Instant now) {
    boolean decides = rule.decides(r.probe());
    if (!r.empty() && decides && rule.mode() != DrainedWhen.Mode.ANY) {
      restartQuietPeriod(now); // data seen is never un-seen, however late the reading came
    } else if (r.empty() && confirming) {
      confirmingSince.merge(r.probe(), r.readAt(), (a, b) -> a.isAfter(b) ? a : b);
    }
    observe(now);
  }

  /** Every source's latest reading combined at {@code now}, stale ones as unknown. */
  QueueSnapshot verdict(Instant now) {
    List<ProbeReading> readings = new ArrayList<>(latest.size());
    for (ProbeReading r : latest.values()) {
      readings.add(fresh(r, now).withDeciding(rule.decides(r.probe())));
    }
    return new QueueSnapshot(now, files.roots(), readings, rule.empty(readings));
  }

  private ProbeReading fresh(ProbeReading r, Instant now) {
    Duration limit = maxAge.get(r.probe());
    if (limit == null || r.unknown().isPresent() || !now.isAfter(r.readAt().plus(limit))) {
      return r;
    }
    return ProbeReading.unknown(
        r.probe(),
        r.readAt(),
        "last reading started at " + r.readAt() + ", older than probe-interval + probe-timeout");
  }

  /** The instant the quiet period ends, or ended, counted from the last not-empty instant. */
  Instant quietEnd() {
    return lastNotEmpty.plus(quietPeriod);
  }

  /** The last instant the verdict was not empty. */
  Instant lastNotEmpty() {
    return lastNotEmpty;
  }

  /** Empty now, and for the whole quiet period. */
  boolean quiet(Instant now) {
    return verdict(now).empty() && !now.isBefore(quietEnd());
  }

  /**
   * Quiet, and confirmed by a reading of every deciding source that started at or after {@code
   * since} (the quiet period's end, or an operator's release) and found it empty.
   */
  boolean confirmed(Instant now, Instant since) {
    QueueSnapshot v = verdict(now);
    if (!v.empty()) {
      return false;
    }
    boolean any = false;
    for (ProbeReading r : v.probes()) {
      Instant c = confirmingSince.get(r.probe());
      boolean ok = r.empty() && c != null && !c.isBefore(since);
      if (rule.mode() == DrainedWhen.Mode.ANY) {
        any |= ok;
      } else if (r.deciding() && !ok) {
        return false;
      }
    }
    return rule.mode() != DrainedWhen.Mode.ANY || any;
  }

  /** The names of the scheduled probes (not files) whose readings decide. */
  List<String> decidingProbes() {
    return maxAge.keySet().stream().filter(rule::decides).sorted().toList();
  }

  Optional<QueueSnapshot> filesView() {
    return Optional.of(files);
  }
}
