package dev.drainguard.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.drainguard.drain.Phase;
import dev.drainguard.forecast.Forecast;
import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.testing.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's fleet metrics received by a real StatsD server: Etsy's statsd daemon from the npm
 * registry, installed into target/statsd-npm and run with node on 127.0.0.1. Without npm or node,
 * or when the registry cannot be reached, every test here says it skipped and why.
 */
class StatsdDaemonTest {

  static final Path CACHE = Path.of("target/statsd-npm");
  static final Duration START_BOUND = Duration.ofSeconds(30);
  static final Duration BOUND = Duration.ofSeconds(20);

  @TempDir static Path dir;
  static StatsdDaemon daemon;
  static String skipped;

  final MutableClock clock = new MutableClock(Statuses.T0);
  final AgentMetrics metrics = new AgentMetrics(clock, "1.2.3");
  StatsdMetrics statsd;

  @BeforeAll
  static void startDaemon() throws Exception {
    Path stats;
    try {
      stats = StatsdDaemon.obtain(CACHE);
    } catch (StatsdDaemon.UnavailableException e) {
      skipped = "no statsd daemon: " + e.getMessage();
      return;
    }
    daemon = StatsdDaemon.start(stats, dir);
    await().atMost(START_BOUND).until(() -> !daemon.alive() || daemon.up());
    // installed but not running is a failure, not a reason to skip
    assertThat(daemon.alive()).as("statsd running; its log:%n%s", daemon.log()).isTrue();
  }

  @AfterAll
  static void stopDaemon() {
    if (daemon != null) {
      daemon.close();
    }
  }

  @BeforeEach
  void requireDaemon() {
    if (skipped != null) {
      System.out.println("StatsdDaemonTest skipped: " + skipped);
    }
    Assumptions.assumeTrue(skipped == null, () -> "skipped: " + skipped);
  }

  @AfterEach
  void stopSending() {
    if (statsd != null) {
      statsd.close();
    }
  }

  static Forecast forecast() {
    return new Forecast(
        Statuses.T0,
        OptionalLong.of(900_000_000L),
        OptionalDouble.of(2_500_000),
        Optional.of(Duration.ofSeconds(360)),
        OptionalLong.of(123_456_789L),
        Optional.of(Duration.ofSeconds(4)),
        false);
  }

  void start(StatsdFlavor flavor, String instance) {
    metrics.onForecast(forecast());
    statsd =
        StatsdMetrics.start(
            metrics,
            daemon.udpAddress(),
            flavor,
            new FleetTags("workers", instance, "drain-queues"),
            LoopbackGuard.of(true),
            Duration.ofMillis(200));
  }

  @Test
  void datadog_theDaemonParsesEveryMetricWithGroupInstanceHookAndPhaseTags() {
    start(StatsdFlavor.DATADOG, "i-datadog");
    metrics.onStatus(Statuses.of(Phase.HOLDING).build());
    String tags = ";statistic=value;group=workers;hook=drain-queues;instance=i-datadog";

    await()
        .atMost(BOUND)
        .untilAsserted(
            () ->
                assertThat(daemon.gauges())
                    .containsEntry("drainguard_forecast_bytes_at_risk" + tags, 123_456_789.0)
                    .containsEntry("drainguard_drain_rate_bytes_per_second" + tags, 2_500_000.0)
                    .containsEntry("drainguard_empty_in_seconds" + tags, 360.0)
                    .containsEntry("drainguard_drain_stalled" + tags, 0.0)
                    .containsEntry("drainguard_phase" + tags + ";phase=holding", 1.0)
                    .containsEntry("drainguard_phase" + tags + ";phase=in_service", 0.0));

    // a counter: three heartbeats accepted while the sender is up
    metrics.onStatus(Statuses.of(Phase.HOLDING).heartbeats(3).build());
    String counted = tags.replace("statistic=value", "statistic=count");
    await()
        .atMost(BOUND)
        .untilAsserted(
            () ->
                assertThat(daemon.counters())
                    .containsEntry("drainguard_heartbeats" + counted, 3.0));
    System.out.println("statsd received, e.g.: drainguard_forecast_bytes_at_risk" + tags);
  }

  @Test
  void etsy_theDaemonParsesTheTagsFoldedIntoTheName() {
    start(StatsdFlavor.ETSY, "i-etsy");
    await()
        .atMost(BOUND)
        .untilAsserted(
            () ->
                assertThat(daemon.gauges())
                    .containsEntry(
                        "drainguard_forecast_bytes_at_risk.group.workers.hook.drain-queues"
                            + ".instance.i-etsy.statistic.value",
                        123_456_789.0));
  }

  @Test
  void telegraf_theDaemonReceivesTheTaggedLine() {
    // Etsy's daemon does not read Telegraf's tags (Telegraf does): the line as received
    start(StatsdFlavor.TELEGRAF, "i-telegraf");
    await()
        .atMost(BOUND)
        .untilAsserted(
            () ->
                assertThat(daemon.log())
                    .contains(
                        "DEBUG: drainguard_forecast_bytes_at_risk,statistic=value,group=workers,"
                            + "hook=drain-queues,instance=i-telegraf:123456789|g"));
  }
}
