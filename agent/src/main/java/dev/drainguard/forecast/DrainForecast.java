package dev.drainguard.forecast;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * The forecast for one series of queue readings (one probe, or one queue): feed it every reading
 * with {@link #observe} (or {@link #observeUnknown} when the source cannot tell), then ask at any
 * instant for the {@link #rate}, {@link #emptyIn}, {@link #atRisk bytes at risk} at a deadline and
 * whether the queue has {@link #stalled}. Pure: no clock, no I/O; every answer is a function of the
 * readings and the instant asked about.
 *
 * <p><b>Rate.</b> The least-squares slope of bytes over time through the readings of the last
 * {@link ForecastSettings#window() window}, sign turned so that a draining queue has a positive
 * rate. It is exact on a steady drain, whatever the spacing of the readings. On a consumer that
 * takes a step of s bytes every P seconds (a staircase of mean rate r = s/P), the readings differ
 * from the mean line by at most s/2, which bounds the slope's error by (s/2) · Σ|t−t̄| / Σ(t−t̄)² ≤
 * 1.5 s / D for readings spread over a span D: a relative error of at most 1.5 · P / D. A refill (a
 * step up) can only lower the rate read while it is inside the window, so the forecast errs towards
 * "at risk", never towards "will drain in time".
 *
 * <p><b>Time to empty and bytes at risk</b> extrapolate the latest reading along that rate: empty
 * in = bytes / rate; at risk = bytes − rate × (deadline − read time), at least 0 (a growing queue
 * is projected to grow).
 *
 * <p><b>Stall.</b> Progress is a reading lower than the one before it, reaching 0, or data
 * appearing in an empty queue (the clock starts then). The queue is stalled when readings still
 * show data {@code stall-after} after the last progress.
 *
 * <p><b>Evidence.</b> A reading never replaces a newer one; a reading of the same instant as the
 * newest is ignored. While the newest observation is unknown, or the newest reading is older than
 * the window at the instant asked about, everything is unknown (never zero, never "empty").
 *
 * <p>Not thread-safe: confine an instance to the thread that decides (or guard it).
 */
public final class DrainForecast {

  /**
   * At most this many readings per window are kept: readings closer together than window / this
   * replace the newest kept one, so a burst of filesystem events cannot grow the series.
   */
  static final int MAX_SAMPLES_PER_WINDOW = 240;

  private final ForecastSettings settings;
  private final Duration coalesce;
  private final ArrayDeque<Sample> samples = new ArrayDeque<>();
  private Sample latest;
  private Instant newestObservation;
  private boolean unknownNow;
  private Instant lastProgressAt;

  public DrainForecast(ForecastSettings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.coalesce = settings.window().dividedBy(MAX_SAMPLES_PER_WINDOW);
  }

  /** One reading: {@code bytes} were queued when the read started at {@code at}. */
  public void observe(Instant at, long bytes) {
    Objects.requireNonNull(at, "at");
    if (bytes < 0) {
      throw new IllegalArgumentException("negative bytes " + bytes + " at " + at);
    }
    if (!newer(at)) {
      return;
    }
    unknownNow = false;
    if (latest == null || bytes < latest.bytes() || bytes == 0 || latest.bytes() == 0) {
      lastProgressAt = at;
    }
    Sample s = new Sample(at, bytes);
    if (samples.size() >= 2) {
      Sample last = samples.pollLast();
      if (Duration.between(samples.peekLast().at(), at).compareTo(coalesce) >= 0) {
        samples.addLast(last);
      }
    }
    samples.addLast(s);
    latest = s;
    Instant horizon = at.minus(settings.window());
    while (samples.size() > 1 && samples.peekFirst().at().isBefore(horizon)) {
      samples.pollFirst();
    }
  }

  /** The source could not tell at {@code at}: everything is unknown until the next reading. */
  public void observeUnknown(Instant at) {
    Objects.requireNonNull(at, "at");
    if (newer(at)) {
      unknownNow = true;
    }
  }

  /** Bytes leaving per second over the window: positive draining, negative growing. */
  public OptionalDouble rate(Instant now) {
    if (!known(now)) {
      return OptionalDouble.empty();
    }
    Instant from = now.minus(settings.window());
    List<Sample> in = new ArrayList<>(samples.size());
    for (Sample s : samples) {
      if (!s.at().isBefore(from) && !s.at().isAfter(now)) {
        in.add(s);
      }
    }
    if (in.size() < 2
        || Duration.between(in.get(0).at(), in.get(in.size() - 1).at())
                .compareTo(settings.minSpan())
            < 0) {
      return OptionalDouble.empty();
    }
    double slope = slope(in);
    return OptionalDouble.of(slope == 0 ? 0.0 : -slope);
  }

  /** Time until empty at the current rate; zero when empty; empty when unknown, flat or growing. */
  public Optional<Duration> emptyIn(Instant now) {
    if (!known(now)) {
      return Optional.empty();
    }
    if (latest.bytes() == 0) {
      return Optional.of(Duration.ZERO);
    }
    OptionalDouble rate = rate(now);
    if (rate.isEmpty() || rate.getAsDouble() <= 0) {
      return Optional.empty();
    }
    double left = latest.bytes() - rate.getAsDouble() * seconds(latest.at(), now);
    if (left <= 0) {
      return Optional.of(Duration.ZERO);
    }
    return Optional.of(millis(left / rate.getAsDouble()));
  }

  /**
   * Bytes the current rate leaves queued at {@code deadline}, rounded up; 0 when the drain finishes
   * in time; empty while the rate is unknown.
   */
  public OptionalLong atRisk(Instant deadline, Instant now) {
    Objects.requireNonNull(deadline, "deadline");
    if (!known(now)) {
      return OptionalLong.empty();
    }
    if (latest.bytes() == 0) {
      return OptionalLong.of(0);
    }
    OptionalDouble rate = rate(now);
    if (rate.isEmpty()) {
      return OptionalLong.empty();
    }
    double span = Math.max(0, seconds(latest.at(), deadline));
    double left = latest.bytes() - rate.getAsDouble() * span;
    if (left <= 0) {
      return OptionalLong.of(0);
    }
    return OptionalLong.of(left >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) Math.ceil(left));
  }

  /** How long since the last progress, while data is queued; empty when unknown or empty. */
  public Optional<Duration> noProgressFor(Instant now) {
    if (!known(now) || latest.bytes() == 0) {
      return Optional.empty();
    }
    Duration d = Duration.between(lastProgressAt, now);
    return Optional.of(d.isNegative() ? Duration.ZERO : d);
  }

  /** Readings still show data {@code stall-after} after the last progress. */
  public boolean stalled(Instant now) {
    return known(now)
        && latest.bytes() > 0
        && Duration.between(lastProgressAt, latest.at()).compareTo(settings.stallAfter()) >= 0;
  }

  /** Everything at once, with bytes at risk when a deadline is given. */
  public Forecast forecast(Instant now, Optional<Instant> deadline) {
    if (!known(now)) {
      return Forecast.unknown(now);
    }
    return new Forecast(
        now,
        OptionalLong.of(latest.bytes()),
        rate(now),
        emptyIn(now),
        deadline.isPresent() ? atRisk(deadline.get(), now) : OptionalLong.empty(),
        noProgressFor(now),
        stalled(now));
  }

  /** How many readings are kept (for the test of the bound on memory). */
  int samplesKept() {
    return samples.size();
  }

  private boolean newer(Instant at) {
    if (newestObservation != null && !at.isAfter(newestObservation)) {
      return false;
    }
    newestObservation = at;
    return true;
  }

  private boolean known(Instant now) {
    return latest != null && !unknownNow && !latest.at().isBefore(now.minus(settings.window()));
  }

  /** Least-squares slope in bytes per second; times relative to the first, for precision. */
  static double slope(List<Sample> in) {
    Instant t0 = in.get(0).at();
    double n = in.size();
    double sumT = 0;
    double sumB = 0;
    for (Sample s : in) {
      sumT += seconds(t0, s.at());
      sumB += s.bytes();
    }
    double meanT = sumT / n;
    double meanB = sumB / n;
    double cov = 0;
    double var = 0;
    for (Sample s : in) {
      double dt = seconds(t0, s.at()) - meanT;
      cov += dt * (s.bytes() - meanB);
      var += dt * dt;
    }
    return var == 0 ? 0 : cov / var;
  }

  private static double seconds(Instant from, Instant to) {
    Duration d = Duration.between(from, to);
    return d.getSeconds() + d.getNano() / 1e9;
  }

  private static Duration millis(double seconds) {
    double ms = Math.ceil(seconds * 1000);
    return Duration.ofMillis(ms >= Long.MAX_VALUE / 2.0 ? Long.MAX_VALUE / 2 : (long) ms);
  }

  /** One reading. */
  record Sample(Instant at, long bytes) {}
}
