package dev.drainguard.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.drainguard.drain.Phase;
import dev.drainguard.forecast.Forecast;
import dev.drainguard.net.EndpointRefusedException;
import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.queue.QueueSnapshot;
import dev.drainguard.testing.MutableClock;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Fleet metrics as a StatsD agent receives them: real UDP datagrams on 127.0.0.1, read by {@link
 * UdpLines}. ({@link StatsdDaemonTest} sends them to the statsd daemon itself.)
 */
class StatsdMetricsTest {

  static final FleetTags TAGS = new FleetTags("workers", "i-0abc", "drain-queues");
  static final Duration FAST = Duration.ofMillis(100);
  static final Duration BOUND = Duration.ofSeconds(20);

  final MutableClock clock = new MutableClock(Statuses.T0);
  final AgentMetrics metrics = new AgentMetrics(clock, "1.2.3");
  final UdpLines udp = new UdpLines();
  StatsdMetrics statsd;

  @AfterEach
  void close() {
    if (statsd != null) {
      statsd.close();
    }
    udp.close();
  }

  static Forecast forecast(Instant at) {
    return new Forecast(
        at,
        OptionalLong.of(900_000_000L),
        OptionalDouble.of(2_500_000),
        Optional.of(Duration.ofSeconds(360)),
        OptionalLong.of(123_456_789L),
        Optional.of(Duration.ofSeconds(4)),
        false);
  }

  void start(StatsdFlavor flavor) {
    statsd =
        StatsdMetrics.start(metrics, udp.address(), flavor, TAGS, LoopbackGuard.of(true), FAST);
  }

  @Test
  void datadog_everyFleetMetricCarriesGroupInstanceAndHook_phaseItsPhase() {
    metrics.onForecast(forecast(Statuses.T0));
    start(StatsdFlavor.DATADOG);
    // counters go as increments: three heartbeats accepted once the sender is up (UDP is best
    // effort: an increment before the socket is ready is not sent)
    await().atMost(BOUND).until(() -> !udp.named("drainguard_phase").isEmpty());
    metrics.onStatus(Statuses.of(Phase.HOLDING).heartbeats(3).build());

    // Micrometer adds the statistic it sends (value for a gauge, count for a counter) as a tag
    String tags = "|#statistic:value,group:workers,hook:drain-queues,instance:i-0abc";
    await()
        .atMost(BOUND)
        .untilAsserted(
            () ->
                assertThat(udp.lines())
                    .contains(
                        "drainguard_forecast_bytes_at_risk:123456789|g" + tags,
                        "drainguard_drain_rate_bytes_per_second:2500000|g" + tags,
                        "drainguard_empty_in_seconds:360|g" + tags,
                        "drainguard_drain_stalled:0|g" + tags,
                        "drainguard_phase:1|g" + tags + ",phase:holding",
                        "drainguard_phase:0|g" + tags + ",phase:in_service",
                        "drainguard_agent_info:1|g" + tags + ",version:1.2.3"));
    await()
        .atMost(BOUND)
        .untilAsserted(
            () ->
                assertThat(udp.named("drainguard_heartbeats"))
                    .contains(
                        "drainguard_heartbeats:3|c"
                            + tags.replace("statistic:value", "statistic:count")));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "DATADOG, 'drainguard_forecast_bytes_at_risk:123456789|g|#statistic:value,group:workers,hook:drain-queues,instance:i-0abc'",
    "TELEGRAF, 'drainguard_forecast_bytes_at_risk,statistic=value,group=workers,hook=drain-queues,instance=i-0abc:123456789|g'",
    "ETSY, drainguard_forecast_bytes_at_risk.group.workers.hook.drain-queues.instance.i-0abc.statistic.value:123456789|g",
  })
  void eachFlavor_writesTheTagsItsWay(StatsdFlavor flavor, String line) {
    metrics.onForecast(forecast(Statuses.T0));
    start(flavor);
    await().atMost(BOUND).untilAsserted(() -> assertThat(udp.lines()).contains(line));
  }

  @Test
  void anUnknownForecast_sendsNothingRatherThanZero() {
    metrics.onStatus(Statuses.of(Phase.HOLDING).build());
    metrics.onForecast(Forecast.unknown(Statuses.T0));
    start(StatsdFlavor.DATADOG);

    // the phase arriving shows the poll ran; NaN gauges were skipped in it
    await()
        .atMost(BOUND)
        .untilAsserted(() -> assertThat(udp.named("drainguard_phase")).hasSizeGreaterThan(3));
    assertThat(udp.named("drainguard_drain_rate_bytes_per_second")).isEmpty();
    assertThat(udp.named("drainguard_empty_in_seconds")).isEmpty();
    assertThat(udp.named("drainguard_forecast_bytes_at_risk")).isEmpty();
    // ... and the Prometheus endpoint shows NaN for them
    assertThat(new Scrape(metrics.scrape()).get("drainguard_empty_in_seconds")).isNaN();

    metrics.onForecast(forecast(Statuses.T0));
    await()
        .atMost(BOUND)
        .untilAsserted(() -> assertThat(udp.named("drainguard_empty_in_seconds")).isNotEmpty());
  }

  @Test
  void perRootGauges_stayOnThePrometheusEndpoint() {
    metrics.onQueues(
        new QueueSnapshot(
            Statuses.T0,
            List.of(Statuses.root("/opt/cribl/state/queues", 2, 4096, Duration.ofSeconds(1))),
            false));
    start(StatsdFlavor.DATADOG);

    await()
        .atMost(BOUND)
        .untilAsserted(() -> assertThat(udp.named("drainguard_probe_bytes")).isNotEmpty());
    assertThat(udp.lines()).noneMatch(l -> l.startsWith("drainguard_queue_"));
    assertThat(
            new Scrape(metrics.scrape())
                .get("drainguard_queue_bytes", "root", "/opt/cribl/state/queues"))
        .isEqualTo(4096);
  }

  @Test
  void aNonLoopbackAddress_isRefusedInLoopbackOnlyMode_andNothingIsSent() throws Exception {
    InetSocketAddress remote =
        new InetSocketAddress(InetAddress.getByAddress(new byte[] {10, 0, 0, 5}), 8125);
    assertThatThrownBy(
            () ->
                StatsdMetrics.start(
                    metrics, remote, StatsdFlavor.DATADOG, TAGS, LoopbackGuard.of(true), FAST))
        .isInstanceOf(EndpointRefusedException.class)
        .hasMessageContaining("StatsD")
        .hasMessageContaining("10.0.0.5:8125");
    assertThat(((CompositeMeterRegistry) metrics.registry()).getRegistries()).hasSize(1);
  }

  @Test
  void close_takesTheStatsdRegistryOutOfTheComposite() {
    start(StatsdFlavor.DATADOG);
    var composite = (CompositeMeterRegistry) metrics.registry();
    assertThat(composite.getRegistries()).hasSize(2);
    statsd.close();
    statsd.close(); // idempotent
    assertThat(composite.getRegistries()).hasSize(1);
    // the Prometheus endpoint is unaffected
    assertThat(new Scrape(metrics.scrape()).get("drainguard_agent_info", "version", "1.2.3"))
        .isEqualTo(1);
  }

  @Test
  void metricNames_areTheSnakeCaseNamesSent() {
    assertThat(StatsdMetrics.metricNames())
        .contains(
            "drainguard_forecast_bytes_at_risk",
            "drainguard_held_seconds",
            "drainguard_phase",
            "drainguard_heartbeats")
        .doesNotContain("drainguard_queue_bytes")
        .isSorted();
  }
}
