package dev.drainguard.forecast;

import java.util.OptionalLong;

/**
 * Decides when a forecast of bytes at risk is worth a WARN line (and the {@code at-risk} command):
 * the first time any bytes are at risk, then again only when the figure moves by more than {@link
 * ForecastSettings#rewarnShare()} of the last figure warned about, up or down. A forecast of 0
 * warns of nothing and forgets nothing, so a forecast that flaps around the deadline warns once.
 */
public final class RiskWarnings {

  private final double share;
  private long lastWarned = -1;

  public RiskWarnings(double share) {
    if (!(share > 0)) {
      throw new IllegalArgumentException("share must be positive: " + share);
    }
    this.share = share;
  }

  public RiskWarnings(ForecastSettings settings) {
    this(settings.rewarnShare());
  }

  /**
   * Whether {@code bytesAtRisk} deserves a warning now; if so it becomes the figure later ones are
   * compared with.
   */
  public boolean shouldWarn(long bytesAtRisk) {
    if (bytesAtRisk <= 0) {
      return false;
    }
    if (lastWarned > 0 && Math.abs((double) bytesAtRisk - lastWarned) <= share * lastWarned) {
      return false;
    }
    lastWarned = bytesAtRisk;
    return true;
  }

  /** Whether {@code f} carries bytes at risk that deserve a warning (see {@link #shouldWarn}). */
  public boolean shouldWarn(Forecast f) {
    return f.bytesAtRisk().isPresent() && shouldWarn(f.bytesAtRisk().getAsLong());
  }

  /** The last figure warned about; empty before the first warning. */
  public OptionalLong lastWarned() {
    return lastWarned > 0 ? OptionalLong.of(lastWarned) : OptionalLong.empty();
  }
}
