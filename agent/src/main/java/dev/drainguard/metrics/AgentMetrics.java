package dev.drainguard.metrics;

import dev.drainguard.drain.DrainStatus;
import dev.drainguard.drain.Phase;
import dev.drainguard.forecast.Forecast;
import dev.drainguard.imds.InstanceMetadata;
import dev.drainguard.lifecycle.LifecycleActions;
import dev.drainguard.queue.QueueSnapshot;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.ToDoubleFunction;

/**
 * The agent's metrics, kept in a Prometheus registry and served by {@link MetricsServer}.
 *
 * <table>
 *   <caption>Metrics (Prometheus names)</caption>
 *   <tr><th>name</th><th>type</th><th>labels</th><th>meaning</th></tr>
 *   <tr><td>{@code drainguard_queue_bytes}</td><td>gauge</td><td>root</td>
 *       <td>bytes of the files that count as queued under the root</td></tr>
 *   <tr><td>{@code drainguard_queue_files}</td><td>gauge</td><td>root</td>
 *       <td>files that count as queued under the root</td></tr>
 *   <tr><td>{@code drainguard_queue_root_error}</td><td>gauge</td><td>root</td>
 *       <td>1 while the root cannot be judged (missing, unreadable), else 0</td></tr>
 *   <tr><td>{@code drainguard_queue_root_polled}</td><td>gauge</td><td>root</td>
 *       <td>1 while the root is walked every second instead of watched (inotify watch limit
 *       reached), else 0</td></tr>
 *   <tr><td>{@code drainguard_queue_oldest_age_seconds}</td><td>gauge</td><td>root</td>
 *       <td>age of the oldest queued file, 0 when none</td></tr>
 *   <tr><td>{@code drainguard_phase}</td><td>gauge</td><td>phase</td>
 *       <td>1 for the controller's current phase, 0 for every other (one series per phase,
 *       lower case); all 0 before the first status</td></tr>
 *   <tr><td>{@code drainguard_heartbeats_total}</td><td>counter</td><td></td>
 *       <td>heartbeats Auto Scaling accepted</td></tr>
 *   <tr><td>{@code drainguard_lifecycle_calls_total}</td><td>counter</td>
 *       <td>operation, outcome, result</td><td>Auto Scaling calls; see {@link
 *       MeteredLifecycleActions}</td></tr>
 *   <tr><td>{@code drainguard_lifecycle_call_seconds}</td><td>summary (+ {@code _max})</td>
 *       <td>operation, outcome</td><td>latency of those calls, retries included</td></tr>
 *   <tr><td>{@code drainguard_imds_reads_total}</td><td>counter</td><td>path, outcome</td>
 *       <td>IMDS reads; see {@link MeteredInstanceMetadata}</td></tr>
 *   <tr><td>{@code drainguard_held_seconds}</td><td>gauge</td><td></td>
 *       <td>how long the lifecycle action has been held: now minus the time it became active
 *       while holding or drained, its final value once the drain ended, 0 before</td></tr>
 *   <tr><td>{@code drainguard_completions_total}</td><td>counter</td><td>result, reason</td>
 *       <td>drains that ended, counted once when the phase becomes terminal; see {@link
 *       Completion}</td></tr>
 *   <tr><td>{@code drainguard_bytes_at_completion}</td><td>gauge</td><td></td>
 *       <td>bytes queued when the drain ended (present only after it ended)</td></tr>
 *   <tr><td>{@code drainguard_agent_info}</td><td>gauge</td><td>version</td>
 *       <td>always 1</td></tr>
 *   <tr><td>{@code drainguard_drain_rate_bytes_per_second}</td><td>gauge</td><td></td>
 *       <td>bytes leaving the deciding queues per second over the forecast window: positive
 *       draining, negative growing; NaN while unknown</td></tr>
 *   <tr><td>{@code drainguard_empty_in_seconds}</td><td>gauge</td><td></td>
 *       <td>estimated seconds until the queues are empty, 0 when empty; NaN while unknown, flat
 *       or growing</td></tr>
 *   <tr><td>{@code drainguard_forecast_bytes_at_risk}</td><td>gauge</td><td></td>
 *       <td>bytes the current rate leaves queued at the deadline, 0 when the drain finishes in
 *       time; NaN without a deadline or a rate</td></tr>
 *   <tr><td>{@code drainguard_drain_stalled}</td><td>gauge</td><td></td>
 *       <td>1 while a deciding queue has held data with no progress for {@code stall-after},
 *       else 0</td></tr>
 * </table>
 *
 * <p>{@link #onStatus}, {@link #onQueues} and {@link #onForecast} may be called from different
 * threads; the registry is read by the server's thread. Gauges read fields of this object, which
 * the registry holds strongly.
 *
 * <p>Meters are registered in a composite registry: the Prometheus registry {@link #scrape()} reads
 * is always in it, and {@link StatsdMetrics} adds a StatsD registry when fleet metrics are on.
 */
public final class AgentMetrics {

  static final String QUEUE_BYTES = "drainguard.queue.bytes";
  static final String QUEUE_FILES = "drainguard.queue.files";
  static final String QUEUE_ROOT_ERROR = "drainguard.queue.root.error";
  static final String QUEUE_ROOT_POLLED = "drainguard.queue.root.polled";
  static final String QUEUE_OLDEST_AGE = "drainguard.queue.oldest.age.seconds";
  static final String PROBE_BYTES = "drainguard.probe.bytes";
  static final String PROBE_UNKNOWN = "drainguard.probe.unknown";
  static final String PROBE_EMPTY = "drainguard.probe.empty";
  static final String PROBE_DECIDING = "drainguard.probe.deciding";
  static final String PHASE = "drainguard.phase";
  static final String HEARTBEATS = "drainguard.heartbeats";
  static final String LIFECYCLE_CALLS = "drainguard.lifecycle.calls";
  static final String LIFECYCLE_CALL_TIME = "drainguard.lifecycle.call";
  static final String IMDS_READS = "drainguard.imds.reads";
  static final String HELD = "drainguard.held.seconds";
  static final String PROTECTED = "drainguard.scale.in.protected";
  static final String REBALANCE = "drainguard.rebalance.recommended";
  static final String COMPLETIONS = "drainguard.completions";
  static final String BYTES_AT_COMPLETION = "drainguard.bytes.at.completion";
  static final String INFO = "drainguard.agent.info";
  static final String DRAIN_RATE = "drainguard.drain.rate.bytes.per.second";
  static final String EMPTY_IN = "drainguard.empty.in.seconds";
  static final String BYTES_AT_RISK = "drainguard.forecast.bytes.at.risk";
  static final String STALLED = "drainguard.drain.stalled";

  private final Clock clock;
  private final PrometheusMeterRegistry prometheus;
  private final CompositeMeterRegistry registry;
  private final QueueGauges queues;
  private final ProbeGauges probes;
  private final Counter heartbeats;

  private volatile Phase phase;
  private volatile boolean scaleInProtected;
  private volatile boolean rebalanceRecommended;
  private volatile Instant heldSince;
  private volatile Instant heldUntil;
  private volatile long bytesAtCompletion;
  private volatile Forecast forecast;
  private int lastHeartbeats;
  private boolean completionCounted;

  /**
   * @param clock the agent's clock: held time and file ages are measured against it at scrape time
   * @param version shown as the {@code version} label of {@code drainguard_agent_info}
   */
  public AgentMetrics(Clock clock, String version) {
    this(clock, version, io.micrometer.core.instrument.Clock.SYSTEM);
  }

  /** With the clock that times API calls chosen (a {@code MockClock} in tests). */
  AgentMetrics(Clock clock, String version, io.micrometer.core.instrument.Clock meterClock) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.prometheus =
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT, new PrometheusRegistry(), meterClock);
    this.registry = new CompositeMeterRegistry(meterClock, List.of(prometheus));
    this.queues = new QueueGauges(registry, clock);
    this.probes = new ProbeGauges(registry);
    for (Phase p : Phase.values()) {
      Gauge.builder(PHASE, this, m -> m.phase == p ? 1 : 0)
          .description("1 for the drain controller's current phase, 0 for the others")
          .tag("phase", p.name().toLowerCase(Locale.ROOT))
          .strongReference(true)
          .register(registry);
    }
    this.heartbeats =
        Counter.builder(HEARTBEATS)
            .description("Lifecycle action heartbeats that Auto Scaling accepted")
            .register(registry);
    Gauge.builder(HELD, this, AgentMetrics::heldSeconds)
        .description("Seconds the lifecycle action has been held open (final value once ended)")
        .strongReference(true)
        .register(registry);
    Gauge.builder(PROTECTED, this, m -> m.scaleInProtected ? 1 : 0)
        .description("1 while the agent holds the instance protected from scale-in")
        .strongReference(true)
        .register(registry);
    Gauge.builder(REBALANCE, this, m -> m.rebalanceRecommended ? 1 : 0)
        .description("1 once IMDS has recommended rebalancing this spot instance")
        .strongReference(true)
        .register(registry);
    forecastGauge(
        DRAIN_RATE,
        f -> f.drainRateBytesPerSecond().orElse(Double.NaN),
        "Bytes leaving the deciding queues per second: positive draining, negative growing");
    forecastGauge(
        EMPTY_IN,
        f -> f.emptyInSeconds().orElse(Double.NaN),
        "Estimated seconds until the queues are empty at the current rate (NaN: unknown or not"
            + " draining)");
    forecastGauge(
        BYTES_AT_RISK,
        f -> f.bytesAtRisk().isPresent() ? f.bytesAtRisk().getAsLong() : Double.NaN,
        "Bytes the current rate leaves queued at the deadline (0: drains in time)");
    forecastGauge(
        STALLED,
        f -> f.stalled() ? 1 : 0,
        "1 while a deciding queue holds data and has made no progress for stall-after");
    Gauge.builder(INFO, () -> 1)
        .description("The running agent's version")
        .tag("version", version)
        .strongReference(true)
        .register(registry);
  }

  /** Counts and times every call of {@code delegate}, by operation and outcome. */
  public LifecycleActions instrument(LifecycleActions delegate) {
    return new MeteredLifecycleActions(delegate, registry);
  }

  /** Counts every read of {@code delegate}, by path and outcome. */
  public InstanceMetadata instrument(InstanceMetadata delegate) {
    return new MeteredInstanceMetadata(delegate, registry);
  }

  /**
   * Takes in the controller's latest status (its listener): phase, heartbeats, held time, the
   * completion, and the queue snapshot it carries.
   */
  public synchronized void onStatus(DrainStatus s) {
    phase = s.phase();
    scaleInProtected = s.scaleInProtected();
    rebalanceRecommended = s.rebalanceRecommendedAt().isPresent();
    queues.update(s.queues());
    int n = s.heartbeats();
    // A count lower than the last one comes from a new controller counting from 0 again: all of
    // its heartbeats are new. Never a negative increment.
    int delta = n >= lastHeartbeats ? n - lastHeartbeats : n;
    if (delta > 0) {
      heartbeats.increment(delta);
    }
    lastHeartbeats = n;
    heldSince = s.actionActiveSince().orElse(null);
    heldUntil = s.phase().terminal() ? s.endedAt().orElse(s.evaluatedAt()) : null;
    if (!s.phase().terminal()) {
      completionCounted = false;
    } else if (!completionCounted) {
      completionCounted = true;
      countCompletion(s);
    }
  }

  /**
   * Takes in a queue snapshot straight from the probe: the controller publishes a status only when
   * the totals change, so a root that turns unreadable while empty is seen only here. Snapshots
   * older than one already seen are ignored.
   */
  public void onQueues(QueueSnapshot s) {
    queues.update(s);
    probes.update(s);
  }

  /**
   * Takes in the latest forecast for the deciding queues together (the lead's decision thread calls
   * it whenever it judges): rate, time to empty, bytes at risk at the deadline, stall. Until the
   * first call, and for every field the forecast does not know, the gauges read NaN (StatsD sends
   * nothing for NaN), never 0.
   */
  public void onForecast(Forecast f) {
    forecast = Objects.requireNonNull(f, "forecast");
  }

  /** Every metric in the Prometheus text format, version 0.0.4. */
  public String scrape() {
    return prometheus.scrape();
  }

  /** Every meter, as every registry in the composite sees it. */
  MeterRegistry registry() {
    return registry;
  }

  /** Sends every meter, present and future, to {@code r} as well (the StatsD registry). */
  void publishTo(MeterRegistry r) {
    registry.add(r);
  }

  /** Stops sending to {@code r}. */
  void stopPublishingTo(MeterRegistry r) {
    registry.remove(r);
  }

  private void forecastGauge(String name, ToDoubleFunction<Forecast> f, String description) {
    Gauge.builder(
            name,
            this,
            m -> {
              Forecast now = m.forecast;
              return now == null ? Double.NaN : f.applyAsDouble(now);
            })
        .description(description)
        .strongReference(true)
        .register(registry);
  }

  private void countCompletion(DrainStatus s) {
    Completion c = Completion.of(s);
    Counter.builder(COMPLETIONS)
        .description("Drains that ended, by the result sent and why")
        .tags(Tags.of("result", c.result(), "reason", c.reason()))
        .register(registry)
        .increment();
    bytesAtCompletion = s.bytesAtEnd();
    Gauge.builder(BYTES_AT_COMPLETION, this, m -> m.bytesAtCompletion)
        .description("Bytes queued when the drain ended (lost unless the instance is retained)")
        .strongReference(true)
        .register(registry);
  }

  private double heldSeconds() {
    Instant since = heldSince;
    if (since == null) {
      return 0;
    }
    Instant until = heldUntil;
    Duration held = Duration.between(since, until != null ? until : clock.instant());
    return held.isNegative() ? 0 : held.toMillis() / 1000.0;
  }
}
