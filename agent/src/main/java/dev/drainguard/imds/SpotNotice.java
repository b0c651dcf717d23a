package dev.drainguard.imds;

import java.time.Instant;

/**
 * A notice IMDS gives a spot instance, which no agent can delay.
 *
 * @param kind {@link Kind#INTERRUPTION} ({@code spot/instance-action}: terminate, stop or hibernate
 *     at {@code time}, two minutes after the notice) or {@link Kind#REBALANCE} ({@code
 *     events/recommendations/rebalance}: elevated risk of interruption, noticed at {@code time})
 * @param action for an interruption, what EC2 will do ("terminate", "stop", "hibernate")
 */
public record SpotNotice(Kind kind, String action, Instant time) {

  /** The two notices. */
  public enum Kind {
    INTERRUPTION,
    REBALANCE
  }
}
