package dev.drainguard.sim;

import java.time.Instant;

/**
 * A spot interruption notice, as IMDS {@code spot/instance-action} tells it.
 *
 * @param action {@code terminate}, {@code stop} or {@code hibernate}
 * @param time when EC2 acts
 */
record SpotAction(String action, Instant time) {}
