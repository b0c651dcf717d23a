package dev.drainguard.metrics;

import dev.drainguard.queue.ProbeReading;
import dev.drainguard.queue.QueueSnapshot;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Gauges per probe (files, command, cribl): what it reads, whether it can tell, whether {@code
 * --drained-when} counts it. The probes are fixed for the agent's life, so each probe's gauges are
 * registered the first time a snapshot names it and read its latest reading from then on.
 */
final class ProbeGauges {

  private final MeterRegistry registry;
  private final Map<String, Latest> probes = new HashMap<>();

  ProbeGauges(MeterRegistry registry) {
    this.registry = registry;
  }

  synchronized void update(QueueSnapshot s) {
    for (ProbeReading r : s.probes()) {
      Latest latest = probes.get(r.probe());
      if (latest == null) {
        probes.put(r.probe(), register(r));
      } else if (!r.readAt().isBefore(latest.reading.readAt())) {
        latest.reading = r;
      }
    }
  }

  private Latest register(ProbeReading first) {
    Latest latest = new Latest(first);
    String name = first.probe();
    gauge(
        AgentMetrics.PROBE_BYTES,
        name,
        latest,
        l -> l.reading.bytes(),
        "Bytes queued as the probe reads them (a lower bound while it cannot tell)");
    gauge(
        AgentMetrics.PROBE_UNKNOWN,
        name,
        latest,
        l -> l.reading.unknown().isPresent() ? 1 : 0,
        "1 while the probe cannot tell (never counted as empty), else 0");
    gauge(
        AgentMetrics.PROBE_EMPTY,
        name,
        latest,
        l -> l.reading.empty() ? 1 : 0,
        "1 while the probe says empty under its rules, else 0");
    gauge(
        AgentMetrics.PROBE_DECIDING,
        name,
        latest,
        l -> l.reading.deciding() ? 1 : 0,
        "1 when --drained-when counts the probe's verdict, 0 when it is shown only");
    return latest;
  }

  private void gauge(
      String metric, String probe, Latest holder, ToDoubleFunction<Latest> f, String description) {
    Gauge.builder(metric, holder, f)
        .description(description)
        .tag("probe", probe)
        .strongReference(true)
        .register(registry);
  }

  private static final class Latest {
    volatile ProbeReading reading;

    Latest(ProbeReading reading) {
      this.reading = reading;
    }
  }
}
