package dev.drainguard.metrics;

import dev.drainguard.net.LoopbackGuard;
import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.config.NamingConvention;
import io.micrometer.statsd.StatsdConfig;
import io.micrometer.statsd.StatsdMeterRegistry;
import io.micrometer.statsd.StatsdProtocol;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fleet metrics over StatsD ({@code statsd-address}, {@code statsd-flavor}): the agent's fleet
 * meters, sent over UDP through Micrometer's StatsD registry to a local CloudWatch, Datadog or
 * Telegraf agent, every one tagged with the group, the instance and the hook ({@code
 * drainguard_phase} carries the phase as well). Names are those of the Prometheus endpoint without
 * its suffixes ({@code drainguard_held_seconds}, {@code drainguard_heartbeats}) in every flavor.
 *
 * <p>Only {@link #FLEET} is sent: what an operator of a fleet alarms and graphs on, with a bounded
 * number of series per instance (each is a custom metric in CloudWatch). Per-root gauges and call
 * timings stay on the Prometheus endpoint.
 *
 * <p>UDP never blocks the agent: a dead or missing receiver loses datagrams, nothing else.
 */
public final class StatsdMetrics implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(StatsdMetrics.class);

  /**
   * Gauges are read and sent this often: the CloudWatch agent aggregates StatsD over 60 s by
   * default and Datadog's agent flushes every 10 s, so 10 s loses nothing and costs a few
   * datagrams.
   */
  public static final Duration POLL_EVERY = Duration.ofSeconds(10);

  /** The meters sent over StatsD (Micrometer names). */
  static final Set<String> FLEET =
      Set.of(
          AgentMetrics.PHASE,
          AgentMetrics.HELD,
          AgentMetrics.HEARTBEATS,
          AgentMetrics.LIFECYCLE_CALLS,
          AgentMetrics.COMPLETIONS,
          AgentMetrics.BYTES_AT_COMPLETION,
          AgentMetrics.PROTECTED,
          AgentMetrics.REBALANCE,
          AgentMetrics.PROBE_BYTES,
          AgentMetrics.PROBE_UNKNOWN,
          AgentMetrics.DRAIN_RATE,
          AgentMetrics.EMPTY_IN,
          AgentMetrics.BYTES_AT_RISK,
          AgentMetrics.STALLED,
          AgentMetrics.INFO);

  /** The names the fleet metrics carry over StatsD (and so in CloudWatch), sorted. */
  public static List<String> metricNames() {
    return FLEET.stream()
        .map(n -> NamingConvention.snakeCase.name(n, Meter.Type.OTHER))
        .sorted()
        .toList();
  }

  private final AgentMetrics metrics;
  private final StatsdMeterRegistry statsd;
  private final String target;
  private final AtomicBoolean closed = new AtomicBoolean();

  private StatsdMetrics(AgentMetrics metrics, StatsdMeterRegistry statsd, String target) {
    this.metrics = metrics;
    this.statsd = statsd;
    this.target = target;
  }

  /**
   * Starts sending {@code metrics}' fleet meters to {@code address}; {@link #close()} stops.
   *
   * @param guard refuses a non-loopback address in loopback-only mode (tests, demo, CI)
   * @throws dev.drainguard.net.EndpointRefusedException when the guard refuses the address
   */
  public static StatsdMetrics start(
      AgentMetrics metrics,
      InetSocketAddress address,
      StatsdFlavor flavor,
      FleetTags tags,
      LoopbackGuard guard) {
    return start(metrics, address, flavor, tags, guard, POLL_EVERY);
  }

  /** With the polling interval chosen (tests poll faster). */
  static StatsdMetrics start(
      AgentMetrics metrics,
      InetSocketAddress address,
      StatsdFlavor flavor,
      FleetTags tags,
      LoopbackGuard guard,
      Duration pollEvery) {
    Objects.requireNonNull(metrics, "metrics");
    Objects.requireNonNull(flavor, "flavor");
    Objects.requireNonNull(tags, "tags");
    String host = address.getAddress().getHostAddress();
    String target = (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
    guard.check("StatsD", URI.create("udp://" + target));
    StatsdMeterRegistry statsd =
        new StatsdMeterRegistry(config(host, address.getPort(), flavor, pollEvery), Clock.SYSTEM);
    // the filters and tags must be in place before the composite copies its meters in
    statsd
        .config()
        .namingConvention(NamingConvention.snakeCase)
        .commonTags(tags.asTags())
        .meterFilter(MeterFilter.denyUnless(id -> FLEET.contains(id.getName())));
    metrics.publishTo(statsd);
    log.info(
        "fleet metrics over StatsD address={} flavor={} group={} instance={} hook={} every={}",
        target,
        flavor.name().toLowerCase(java.util.Locale.ROOT),
        tags.group(),
        tags.instance(),
        tags.hook(),
        pollEvery);
    return new StatsdMetrics(metrics, statsd, target);
  }

  private static StatsdConfig config(String host, int port, StatsdFlavor flavor, Duration every) {
    return new StatsdConfig() {
      @Override
      public String get(String key) {
        return null; // every value below; nothing read from properties
      }

      @Override
      public io.micrometer.statsd.StatsdFlavor flavor() {
        return flavor.micrometer();
      }

      @Override
      public String host() {
        return host;
      }

      @Override
      public int port() {
        return port;
      }

      @Override
      public StatsdProtocol protocol() {
        return StatsdProtocol.UDP;
      }

      @Override
      public Duration pollingFrequency() {
        return every;
      }

      @Override
      public Duration step() {
        return every;
      }
    };
  }

  /** Sends the meters' last values once more, then stops; idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    metrics.stopPublishingTo(statsd);
    statsd.close();
    log.info("fleet metrics over StatsD stopped address={}", target);
  }
}
