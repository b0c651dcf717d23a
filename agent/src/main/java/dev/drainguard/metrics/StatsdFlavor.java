package dev.drainguard.metrics;

/**
 * The StatsD line format fleet metrics are sent in ({@code statsd-flavor}); each names the agents
 * that read it.
 */
public enum StatsdFlavor {
  /** Plain StatsD: tags folded into a dotted name ({@code name.group.workers...:1|g}). */
  ETSY(io.micrometer.statsd.StatsdFlavor.ETSY),
  /** DogStatsD tags ({@code name:1|g|#group:workers}): Datadog's agent and the CloudWatch agent. */
  DATADOG(io.micrometer.statsd.StatsdFlavor.DATADOG),
  /** InfluxDB line tags ({@code name,group=workers:1|g}): Telegraf's statsd input. */
  TELEGRAF(io.micrometer.statsd.StatsdFlavor.TELEGRAF);

  private final io.micrometer.statsd.StatsdFlavor micrometer;

  StatsdFlavor(io.micrometer.statsd.StatsdFlavor micrometer) {
    this.micrometer = micrometer;
  }

  io.micrometer.statsd.StatsdFlavor micrometer() {
    return micrometer;
  }
}
