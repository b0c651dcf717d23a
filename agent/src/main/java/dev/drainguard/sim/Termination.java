package dev.drainguard.sim;

import java.time.Instant;

/**
 * A TerminateInstanceInAutoScalingGroup request the simulator accepted for an instance.
 *
 * @param at the simulator clock when the request was answered
 * @param shouldDecrementDesiredCapacity the request's {@code ShouldDecrementDesiredCapacity}
 */
public record Termination(Instant at, boolean shouldDecrementDesiredCapacity) {}
