package dev.drainguard.scenario.core;

import dev.drainguard.queue.CommandProbe;
import dev.drainguard.queue.CriblApiProbe;
import dev.drainguard.queue.ProbeReading;
import dev.drainguard.queue.QueueReading;
import dev.drainguard.queue.QueueSnapshot;
import dev.drainguard.queue.RootStatus;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The true content of every queue source over time, and what each source can read of it. The truth
 * is a set of {@link Parcel}s (bytes present in one source from {@code start} to {@code end}); it
 * is the runner's own record, never the agent's view.
 *
 * <p>The filesystem watcher sees the files root through its events, so its view can be wrong: a
 * parcel written through a hard link's other name is missed until a full rescan ({@link #rescan}),
 * and a directory moved across watched directories is counted twice until one ({@link
 * #addPhantom}). A rescan, and a probe's read, see the truth at the instant they start.
 */
final class Queues {

  static final String FILES = ProbeReading.FILES;
  static final String COMMAND = CommandProbe.NAME;
  static final String CRIBL = CriblApiProbe.NAME;

  static final Path ROOT = Path.of("/opt/cribl/state/queues");

  /**
   * Bytes present in one source during [start, end), in ms from the scenario's start.
   *
   * @param hidden files only: the watcher missed its writes until a rescan
   * @param flush written by the before-complete command
   */
  record Parcel(
      int id, String source, long bytes, long start, long end, boolean hidden, boolean flush) {
    boolean presentAt(long t) {
      return start <= t && t < end;
    }
  }

  /** What one read saw: counts, and which parcels it included (for the invariants). */
  record Seen(long files, long bytes, int[] parcels) {}

  private final long residual;
  private final List<Parcel> parcels = new ArrayList<>();

  /** For hidden parcels: when a rescan made the watcher count them. */
  private final Map<Integer, Long> visibleFrom = new HashMap<>();

  private long phantomBytes;
  private int phantomFiles;

  Queues(long residual) {
    this.residual = residual;
  }

  void add(Parcel p) {
    parcels.add(p);
  }

  List<Parcel> parcels() {
    return parcels;
  }

  long residual(String source) {
    return source.equals(FILES) ? residual : 0;
  }

  /** The watcher's view of the files root at {@code t}: what it counted from its events. */
  Seen watcherView(long t) {
    long files = phantomFiles;
    long bytes = phantomBytes;
    List<Integer> ids = new ArrayList<>();
    for (Parcel p : parcels) {
      if (p.source().equals(FILES) && p.presentAt(t) && visible(p, t)) {
        files++;
        bytes += p.bytes();
        ids.add(p.id());
      }
    }
    return new Seen(files, bytes, ids.stream().mapToInt(Integer::intValue).toArray());
  }

  private boolean visible(Parcel p, long t) {
    return !p.hidden() || visibleFrom.getOrDefault(p.id(), Long.MAX_VALUE) <= t;
  }

  /** A full rescan (or a new watcher's first walk) at {@code t}: the watcher counts the truth. */
  void rescan(long t) {
    phantomBytes = 0;
    phantomFiles = 0;
    for (Parcel p : parcels) {
      if (p.hidden() && p.presentAt(t)) {
        visibleFrom.putIfAbsent(p.id(), t);
      }
    }
  }

  void addPhantom(long bytes) {
    phantomBytes += bytes;
    phantomFiles++;
  }

  /** What a read of {@code source} that starts at {@code t} sees: the truth. */
  Seen truth(String source, long t) {
    long files = 0;
    long bytes = 0;
    List<Integer> ids = new ArrayList<>();
    for (Parcel p : parcels) {
      if (p.source().equals(source) && p.presentAt(t)) {
        files++;
        bytes += p.bytes();
        ids.add(p.id());
      }
    }
    return new Seen(files, bytes, ids.stream().mapToInt(Integer::intValue).toArray());
  }

  /** Whether {@code source} holds more than its allowance at {@code t}. */
  boolean queued(String source, long t) {
    return truth(source, t).bytes() > residual(source);
  }

  boolean empty(String source, Seen s) {
    return s.files() == 0 || s.bytes() <= residual(source);
  }

  /** A files snapshot as the watcher (or a rescan) reports it. */
  QueueSnapshot snapshot(Instant takenAt, Seen s) {
    RootStatus r = new RootStatus(ROOT, s.files(), s.bytes(), Optional.empty(), Optional.empty());
    return new QueueSnapshot(takenAt, List.of(r), empty(FILES, s));
  }

  /** A files snapshot whose root could not be judged. */
  static QueueSnapshot failed(Instant takenAt, String why) {
    RootStatus r = new RootStatus(ROOT, 0, 0, Optional.empty(), Optional.of(why));
    return new QueueSnapshot(takenAt, List.of(r), false);
  }

  static ProbeReading reading(String probe, Instant readAt, Seen s) {
    return ProbeReading.known(probe, readAt, List.of(new QueueReading("pq", s.bytes())));
  }
}
