package dev.drainguard.metrics;

import dev.drainguard.queue.QueueSnapshot;
import dev.drainguard.queue.RootStatus;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * The per-root queue gauges. A root's gauges are registered the first time a snapshot names it and
 * removed when a snapshot no longer does; in between they read that root's latest status.
 */
final class QueueGauges {

  private final MeterRegistry registry;
  private final Clock clock;
  private final Map<String, Root> roots = new HashMap<>();
  private Instant latest = Instant.MIN;

  QueueGauges(MeterRegistry registry, Clock clock) {
    this.registry = registry;
    this.clock = clock;
  }

  /** Shows {@code s}, unless a later snapshot was shown already. */
  synchronized void update(QueueSnapshot s) {
    if (s.takenAt().isBefore(latest)) {
      return;
    }
    latest = s.takenAt();
    Set<String> seen = new HashSet<>();
    for (RootStatus r : s.roots()) {
      String name = r.root().toString();
      seen.add(name);
      Seen now = new Seen(r, s.takenAt());
      Root root = roots.get(name);
      if (root == null) {
        roots.put(name, register(name, now));
      } else {
        root.status = now;
      }
    }
    roots
        .entrySet()
        .removeIf(
            e -> {
              if (seen.contains(e.getKey())) {
                return false;
              }
              e.getValue().meters.forEach(registry::remove);
              return true;
            });
  }

  /** Registers the root's gauges, reading {@code first} until the next update. */
  private Root register(String name, Seen first) {
    Root root = new Root(first);
    root.meters =
        List.of(
            gauge(
                AgentMetrics.QUEUE_BYTES,
                name,
                root,
                r -> r.status.root().bytes(),
                "Bytes of the files that count as queued under the root"),
            gauge(
                AgentMetrics.QUEUE_FILES,
                name,
                root,
                r -> r.status.root().files(),
                "Files that count as queued under the root"),
            gauge(
                AgentMetrics.QUEUE_ROOT_ERROR,
                name,
                root,
                r -> r.status.root().error().isPresent() ? 1 : 0,
                "1 while the queue root cannot be judged (missing, unreadable), else 0"),
            gauge(
                AgentMetrics.QUEUE_ROOT_POLLED,
                name,
                root,
                r -> r.status.root().polled().isPresent() ? 1 : 0,
                "1 while the queue root is walked every second instead of watched (inotify watch"
                    + " limit reached), else 0"),
            gauge(
                AgentMetrics.QUEUE_OLDEST_AGE,
                name,
                root,
                r -> oldestAgeSeconds(r.status),
                "Age in seconds of the oldest file queued under the root, 0 when none"));
    return root;
  }

  private Gauge gauge(
      String name, String root, Root holder, ToDoubleFunction<Root> f, String description) {
    return Gauge.builder(name, holder, f)
        .description(description)
        .tag("root", root)
        .strongReference(true)
        .register(registry);
  }

  /**
   * The age at the snapshot plus the time since: the oldest file leaving changes the counts and so
   * brings a new snapshot; until then the same file keeps ageing.
   */
  private double oldestAgeSeconds(Seen seen) {
    if (seen.root().oldestAge().isEmpty()) {
      return 0;
    }
    Duration since = Duration.between(seen.takenAt(), clock.instant());
    Duration age = seen.root().oldestAge().get().plus(since.isNegative() ? Duration.ZERO : since);
    return age.toMillis() / 1000.0;
  }

  /** One root's latest status and when it was judged. */
  private record Seen(RootStatus root, Instant takenAt) {}

  private static final class Root {
    volatile Seen status;
    List<Meter> meters;

    Root(Seen status) {
      this.status = status;
    }
  }
}
