package dev.drainguard.forecast;

import dev.drainguard.queue.ProbeReading;
import dev.drainguard.queue.QueueSnapshot;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * One {@link DrainForecast} per deciding probe, fed from queue snapshots, and their total.
 *
 * <p>The total is judged as the drain decision is, conservatively: bytes, rate and bytes at risk
 * are sums; the queues are empty when the slowest deciding probe is ({@code emptyIn} is the
 * largest); stalled when any deciding probe is; unknown when any deciding probe cannot tell. A sum
 * of series would do worse: a probe that empties fast would hide a slow one behind a good average.
 *
 * <p>Not thread-safe, like {@link DrainForecast}.
 */
public final class QueueForecasts {

  private final ForecastSettings settings;
  private final Map<String, DrainForecast> probes = new LinkedHashMap<>();

  public QueueForecasts(ForecastSettings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  /**
   * Feeds every deciding probe's reading in {@code s}, each at the instant its read started; a
   * reading already seen (same instant) or older is ignored, one that cannot tell makes that probe
   * unknown until its next reading.
   */
  public void observe(QueueSnapshot s) {
    List<String> deciding = new ArrayList<>();
    for (ProbeReading r : s.probes()) {
      if (!r.deciding()) {
        continue;
      }
      deciding.add(r.probe());
      DrainForecast f = probes.computeIfAbsent(r.probe(), n -> new DrainForecast(settings));
      if (r.unknown().isPresent()) {
        f.observeUnknown(r.readAt());
      } else {
        f.observe(r.readAt(), r.bytes());
      }
    }
    probes.keySet().retainAll(deciding);
  }

  /** Each deciding probe's forecast, by probe name, in the snapshot's order. */
  public Map<String, Forecast> byProbe(Instant now, Optional<Instant> deadline) {
    Map<String, Forecast> out = new LinkedHashMap<>();
    probes.forEach((name, f) -> out.put(name, f.forecast(now, deadline)));
    return out;
  }

  /** The forecast for every deciding probe together (see the class comment). */
  public Forecast total(Instant now, Optional<Instant> deadline) {
    return combine(now, List.copyOf(byProbe(now, deadline).values()));
  }

  static Forecast combine(Instant now, List<Forecast> parts) {
    if (parts.isEmpty() || parts.stream().anyMatch(p -> p.bytes().isEmpty())) {
      return Forecast.unknown(now);
    }
    long bytes = 0;
    double rate = 0;
    boolean rateKnown = true;
    Duration emptyIn = Duration.ZERO;
    boolean emptyInKnown = true;
    long atRisk = 0;
    boolean atRiskKnown = true;
    Duration noProgress = null;
    boolean stalled = false;
    for (Forecast p : parts) {
      bytes = saturatedAdd(bytes, p.bytes().getAsLong());
      rateKnown &= p.drainRateBytesPerSecond().isPresent();
      rate += p.drainRateBytesPerSecond().orElse(0);
      emptyInKnown &= p.emptyIn().isPresent();
      if (p.emptyIn().isPresent() && p.emptyIn().get().compareTo(emptyIn) > 0) {
        emptyIn = p.emptyIn().get();
      }
      atRiskKnown &= p.bytesAtRisk().isPresent();
      atRisk = saturatedAdd(atRisk, p.bytesAtRisk().orElse(0));
      if (p.noProgressFor().isPresent()
          && (noProgress == null || p.noProgressFor().get().compareTo(noProgress) > 0)) {
        noProgress = p.noProgressFor().get();
      }
      stalled |= p.stalled();
    }
    return new Forecast(
        now,
        OptionalLong.of(bytes),
        rateKnown ? OptionalDouble.of(rate) : OptionalDouble.empty(),
        emptyInKnown ? Optional.of(emptyIn) : Optional.empty(),
        atRiskKnown ? OptionalLong.of(atRisk) : OptionalLong.empty(),
        Optional.ofNullable(noProgress),
        stalled);
  }

  private static long saturatedAdd(long a, long b) {
    long r = a + b;
    return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
  }
}
