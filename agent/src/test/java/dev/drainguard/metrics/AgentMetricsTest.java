package dev.drainguard.metrics;

import static dev.drainguard.metrics.Statuses.T0;
import static dev.drainguard.metrics.Statuses.failedRoot;
import static dev.drainguard.metrics.Statuses.polledRoot;
import static dev.drainguard.metrics.Statuses.root;
import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.drain.Phase;
import dev.drainguard.forecast.Forecast;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.queue.ProbeReading;
import dev.drainguard.queue.QueueReading;
import dev.drainguard.queue.QueueSnapshot;
import dev.drainguard.testing.MutableClock;
import io.micrometer.core.instrument.MockClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class AgentMetricsTest {

  private final MutableClock clock = new MutableClock(T0);
  private final AgentMetrics metrics = new AgentMetrics(clock, "1.2.3", new MockClock());

  private Scrape scrape() {
    return new Scrape(metrics.scrape());
  }

  private static String label(Phase p) {
    return p.name().toLowerCase(Locale.ROOT);
  }

  @Test
  void phase_isOneForTheCurrentPhaseAndZeroForEveryOther() {
    metrics.onStatus(Statuses.of(Phase.AWAITING_ACTION).build());
    metrics.onStatus(Statuses.of(Phase.HOLDING).build());

    Scrape s = scrape();
    for (Phase p : Phase.values()) {
      assertThat(s.get("drainguard_phase", "phase", label(p)))
          .as(p.name())
          .isEqualTo(p == Phase.HOLDING ? 1.0 : 0.0);
    }
  }

  @Test
  void phase_beforeAnyStatus_isZeroForEveryPhase() {
    Scrape s = scrape();
    for (Phase p : Phase.values()) {
      assertThat(s.get("drainguard_phase", "phase", label(p))).isZero();
    }
  }

  @Test
  void heartbeats_countTheIncreaseBetweenStatuses() {
    for (int n : new int[] {0, 2, 2, 5}) {
      metrics.onStatus(Statuses.of(Phase.HOLDING).heartbeats(n).build());
    }

    assertThat(scrape().get("drainguard_heartbeats_total")).isEqualTo(5.0);
  }

  @Test
  void heartbeats_aCountStartingAgainFromZero_addsItsOwnAndNeverDecreases() {
    // Guards against a negative increment (Micrometer ignores it silently, the count then lags)
    // when a new controller reports its own count from 0 again.
    metrics.onStatus(Statuses.of(Phase.HOLDING).heartbeats(5).build());
    metrics.onStatus(Statuses.of(Phase.IN_SERVICE).heartbeats(0).build());
    assertThat(scrape().get("drainguard_heartbeats_total")).isEqualTo(5.0);

    metrics.onStatus(Statuses.of(Phase.HOLDING).heartbeats(2).build());
    assertThat(scrape().get("drainguard_heartbeats_total")).isEqualTo(7.0);
  }

  @Test
  void queueGauges_showEachRoot() {
    metrics.onStatus(
        Statuses.of(Phase.HOLDING)
            .queues(
                T0,
                root("/q/a", 3, 4096, Duration.ofSeconds(30)),
                root("/q/b", 0, 0, null),
                failedRoot("/q/c", "missing"),
                polledRoot("/q/d", 2, 10, "User limit of inotify watches reached"))
            .build());

    Scrape s = scrape();
    assertThat(s.get("drainguard_queue_bytes", "root", "/q/a")).isEqualTo(4096.0);
    assertThat(s.get("drainguard_queue_files", "root", "/q/a")).isEqualTo(3.0);
    assertThat(s.get("drainguard_queue_root_error", "root", "/q/a")).isZero();
    assertThat(s.get("drainguard_queue_oldest_age_seconds", "root", "/q/a")).isEqualTo(30.0);
    assertThat(s.get("drainguard_queue_bytes", "root", "/q/b")).isZero();
    assertThat(s.get("drainguard_queue_oldest_age_seconds", "root", "/q/b")).isZero();
    assertThat(s.get("drainguard_queue_root_error", "root", "/q/c")).isEqualTo(1.0);
    assertThat(s.get("drainguard_queue_root_polled", "root", "/q/a")).isZero();
    assertThat(s.get("drainguard_queue_root_polled", "root", "/q/d")).isEqualTo(1.0);
    assertThat(s.get("drainguard_queue_root_error", "root", "/q/d")).isZero();
    assertThat(s.get("drainguard_queue_files", "root", "/q/d")).isEqualTo(2.0);
  }

  @Test
  void queueGauges_oldestAgeKeepsGrowingBetweenSnapshots() {
    // The controller publishes a status only when the counts change: ages must not freeze.
    metrics.onStatus(
        Statuses.of(Phase.HOLDING).queues(T0, root("/q/a", 1, 10, Duration.ofSeconds(30))).build());
    clock.advance(Duration.ofSeconds(90));

    assertThat(scrape().get("drainguard_queue_oldest_age_seconds", "root", "/q/a"))
        .isEqualTo(120.0);
  }

  @Test
  void queueGauges_followTheLatestSnapshotAndDropARootNoLongerReported() {
    metrics.onStatus(
        Statuses.of(Phase.HOLDING)
            .queues(T0, root("/q/a", 1, 10, null), root("/q/b", 1, 20, null))
            .build());
    metrics.onStatus(
        Statuses.of(Phase.HOLDING).queues(T0.plusSeconds(1), root("/q/a", 2, 50, null)).build());

    Scrape s = scrape();
    assertThat(s.get("drainguard_queue_bytes", "root", "/q/a")).isEqualTo(50.0);
    assertThat(s.value("drainguard_queue_bytes", "root", "/q/b")).isEmpty();
    assertThat(s.value("drainguard_queue_files", "root", "/q/b")).isEmpty();
  }

  @Test
  void queueGauges_aRootAddedWhileRunning_getsItsGaugesFromTheFirstSnapshotNamingIt() {
    // queue-root auto adds the roots of a configuration deployed while the agent runs
    metrics.onStatus(Statuses.of(Phase.IN_SERVICE).queues(T0, root("/q/a", 0, 0, null)).build());
    assertThat(scrape().value("drainguard_queue_bytes", "root", "/pq/new")).isEmpty();

    metrics.onStatus(
        Statuses.of(Phase.IN_SERVICE)
            .queues(T0.plusSeconds(1), root("/q/a", 0, 0, null), root("/pq/new", 1, 2048, null))
            .build());

    assertThat(scrape().get("drainguard_queue_bytes", "root", "/pq/new")).isEqualTo(2048.0);
    assertThat(scrape().get("drainguard_queue_root_error", "root", "/pq/new")).isZero();
  }

  @Test
  void onQueues_showsARootErrorTheStatusDidNotCarry_andIgnoresAnOlderSnapshot() {
    metrics.onStatus(Statuses.of(Phase.IN_SERVICE).queues(T0, root("/q/a", 0, 0, null)).build());
    metrics.onQueues(
        new QueueSnapshot(T0.plusSeconds(2), List.of(failedRoot("/q/a", "missing")), false));
    // A status built from an older snapshot, delivered late by another thread.
    metrics.onStatus(
        Statuses.of(Phase.IN_SERVICE).queues(T0.plusSeconds(1), root("/q/a", 0, 0, null)).build());

    assertThat(scrape().get("drainguard_queue_root_error", "root", "/q/a")).isEqualTo(1.0);
  }

  @Test
  void heldSeconds_growWhileHoldingAndKeepTheFinalValueAfter() {
    assertThat(scrape().get("drainguard_held_seconds")).isZero();
    metrics.onStatus(Statuses.of(Phase.HOLDING).activeSince(T0).build());
    clock.advance(Duration.ofSeconds(100));
    assertThat(scrape().get("drainguard_held_seconds")).isEqualTo(100.0);

    metrics.onStatus(
        Statuses.of(Phase.COMPLETED)
            .activeSince(T0)
            .ended(T0.plusSeconds(150), LifecycleResult.CONTINUE, "queues drained", 0)
            .build());
    clock.advance(Duration.ofHours(1));
    assertThat(scrape().get("drainguard_held_seconds")).isEqualTo(150.0);
  }

  @Test
  void completion_isCountedOnceWithItsBytes() {
    assertThat(scrape().value("drainguard_bytes_at_completion")).isEmpty();
    Statuses expired =
        Statuses.of(Phase.EXPIRED)
            .activeSince(T0)
            .ended(T0.plusSeconds(60), null, "deadline reached, policy expire: ...", 777);

    metrics.onStatus(expired.build());
    metrics.onStatus(expired.heartbeats(1).build());

    Scrape s = scrape();
    assertThat(s.get("drainguard_completions_total", "result", "none", "reason", "expired"))
        .isEqualTo(1.0);
    assertThat(s.get("drainguard_bytes_at_completion")).isEqualTo(777.0);
  }

  @Test
  void agentInfo_carriesTheVersion() {
    assertThat(scrape().get("drainguard_agent_info", "version", "1.2.3")).isEqualTo(1.0);
  }

  @Test
  void probeGauges_showEachProbesReadingAndWhetherItDecides() {
    Instant t = Instant.parse("2026-12-02T00:00:00Z");
    ProbeReading files =
        ProbeReading.known(ProbeReading.FILES, t, List.of(new QueueReading("/q", 4096)));
    ProbeReading command = ProbeReading.unknown("command", t, "probe command exited 3");
    metrics.onQueues(
        new QueueSnapshot(t, List.of(), List.of(files.withDeciding(false), command), false));

    Scrape s = scrape();
    assertThat(s.get("drainguard_probe_bytes", "probe", "files")).isEqualTo(4096.0);
    assertThat(s.get("drainguard_probe_deciding", "probe", "files")).isZero();
    assertThat(s.get("drainguard_probe_empty", "probe", "files")).isZero();
    assertThat(s.get("drainguard_probe_unknown", "probe", "command")).isEqualTo(1.0);
    assertThat(s.get("drainguard_probe_deciding", "probe", "command")).isEqualTo(1.0);

    ProbeReading drained =
        ProbeReading.known("command", t.plusSeconds(5), List.of(new QueueReading("fwdq", 0)));
    metrics.onQueues(
        new QueueSnapshot(
            t.plusSeconds(5), List.of(), List.of(files.withDeciding(false), drained), true));
    assertThat(scrape().get("drainguard_probe_unknown", "probe", "command")).isZero();
    assertThat(scrape().get("drainguard_probe_empty", "probe", "command")).isEqualTo(1.0);
  }

  @Test
  void forecast_beforeAnyAndWhereUnknown_isNaNNeverZero() {
    Scrape before = scrape();
    assertThat(before.get("drainguard_drain_rate_bytes_per_second")).isNaN();
    assertThat(before.get("drainguard_empty_in_seconds")).isNaN();
    assertThat(before.get("drainguard_forecast_bytes_at_risk")).isNaN();
    assertThat(before.get("drainguard_drain_stalled")).isNaN();

    metrics.onForecast(Forecast.unknown(T0));
    assertThat(scrape().get("drainguard_empty_in_seconds")).isNaN();
  }

  @Test
  void forecast_showsRateTimeToEmptyBytesAtRiskAndStall() {
    metrics.onForecast(
        new Forecast(
            T0,
            OptionalLong.of(5_000_000_000L),
            OptionalDouble.of(-3_250_585.6),
            Optional.empty(),
            OptionalLong.of(7_000_000_000L),
            Optional.of(Duration.ofMinutes(6)),
            true));

    Scrape s = scrape();
    assertThat(s.get("drainguard_drain_rate_bytes_per_second")).isEqualTo(-3_250_585.6);
    // growing: no time to empty
    assertThat(s.get("drainguard_empty_in_seconds")).isNaN();
    assertThat(s.get("drainguard_forecast_bytes_at_risk")).isEqualTo(7e9);
    assertThat(s.get("drainguard_drain_stalled")).isEqualTo(1.0);

    metrics.onForecast(
        new Forecast(
            T0,
            OptionalLong.of(0),
            OptionalDouble.of(1_000),
            Optional.of(Duration.ofMillis(2_500)),
            OptionalLong.of(0),
            Optional.empty(),
            false));
    s = scrape();
    assertThat(s.get("drainguard_empty_in_seconds")).isEqualTo(2.5);
    assertThat(s.get("drainguard_forecast_bytes_at_risk")).isZero();
    assertThat(s.get("drainguard_drain_stalled")).isZero();
  }
}
