package dev.drainguard.net;

import java.net.URI;
import java.time.Duration;

/**
 * When one exchange must be over, and how long each blocking step of it may still wait: the least
 * of its own timeout and what is left. Past the deadline, and when a read times out, it says so in
 * the words an operator reads ({@code timed out: …}).
 */
final class ExchangeDeadline {

  private final long at;
  private final URI uri;
  private final Duration readTimeout;
  private final Duration limit;

  /** Whether the last read was given what the deadline left rather than the read timeout. */
  private boolean lastReadByDeadline;

  /** Starts now: the exchange with {@code uri} must be over within {@code limit}. */
  ExchangeDeadline(URI uri, Duration readTimeout, Duration limit) {
    this.at = System.nanoTime() + limit.toNanos();
    this.uri = uri;
    this.readTimeout = readTimeout;
    this.limit = limit;
  }

  /** How long a connection may take to open. */
  int connectMillis(Duration connectTimeout) throws BoundedHttp.NoAnswerException {
    return millis(Math.min(connectTimeout.toNanos(), remaining()));
  }

  /** How long the next read may wait. */
  int readMillis() throws BoundedHttp.NoAnswerException {
    long left = remaining();
    lastReadByDeadline = left < readTimeout.toNanos();
    return millis(Math.min(readTimeout.toNanos(), left));
  }

  /** A read that timed out: by the read timeout, or by the whole exchange's limit. */
  BoundedHttp.NoAnswerException silent() {
    return new BoundedHttp.NoAnswerException(
        "timed out: sent to "
            + uri
            + ", no answer within "
            + (lastReadByDeadline
                ? limit.toMillis() + " ms for the whole exchange"
                : readTimeout.toMillis() + " ms"));
  }

  private long remaining() throws BoundedHttp.NoAnswerException {
    long left = at - System.nanoTime();
    if (left <= 0) {
      throw new BoundedHttp.NoAnswerException(
          "timed out: no whole answer from "
              + uri
              + " within "
              + limit.toMillis()
              + " ms for the whole exchange");
    }
    return left;
  }

  private static int millis(long nanos) {
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, (nanos + 999_999) / 1_000_000));
  }
}
