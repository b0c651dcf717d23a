package dev.drainguard.metrics;

/**
 * The StatsD line format fleet metrics are sent in ({@code statsd-flavor}); each names the agents
 * that read it. Micrometer's flavor is named only in {@link #micrometer()}, so that reading the
 * configuration (which {@code drainguard status} does) loads no Micrometer class.
 */
public enum StatsdFlavor {
  /** Plain StatsD: tags folded into a dotted name ({@code name.group.workers...:1|g}). */
  ETSY,
  /** DogStatsD tags ({@code name:1|g|#group:workers}): Datadog's agent and the CloudWatch agent. */
  DATADOG,
  /** InfluxDB line tags ({@code name,group=workers:1|g}): Telegraf's statsd input. */
  TELEGRAF;

  io.micrometer.statsd.StatsdFlavor micrometer() {
    return switch (this) {
      case ETSY -> io.micrometer.statsd.StatsdFlavor.ETSY;
      case DATADOG -> io.micrometer.statsd.StatsdFlavor.DATADOG;
      case TELEGRAF -> io.micrometer.statsd.StatsdFlavor.TELEGRAF;
    };
  }
}
