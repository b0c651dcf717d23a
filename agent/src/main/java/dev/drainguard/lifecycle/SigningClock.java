package dev.drainguard.lifecycle;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * The time Auto Scaling calls are signed with: this host's clock, plus the offset to AWS's clock
 * learnt from a refusal of a signature's time (as the AWS SDKs correct skew), shared by every call.
 */
final class SigningClock {

  /**
   * A signature more than 5 minutes off AWS's clock is refused; when AWS says so, the next attempt
   * signs with the offset its answer's Date header gives, as the AWS SDKs do.
   */
  static final Duration SKEW_TO_CORRECT = Duration.ofMinutes(4);

  private final Clock clock;
  private volatile Duration skew = Duration.ZERO;

  SigningClock(Clock clock) {
    this.clock = clock;
  }

  /** The time to sign the next request with. */
  Instant now() {
    return clock.instant().plus(skew);
  }

  /** The offset in use. */
  Duration offset() {
    return skew;
  }

  /**
   * Takes AWS's clock from the answer's Date header; false when it gives none that helps. The Date
   * is held against the time the refused request was signed with ({@code signedAt}, from {@link
   * #now}), not the clock alone: after the clock has been stepped right, the offset learnt before
   * is what is wrong, and AWS's Date agrees with the clock. Nor the offset in use now: another call
   * may have learnt it since this request was signed, and this one is then signed again with it.
   */
  boolean correct(String date, Instant signedAt) {
    if (date == null) {
      return false;
    }
    try {
      Instant theirs = ZonedDateTime.parse(date, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
      Instant now = clock.instant();
      if (Duration.between(signedAt, theirs).abs().compareTo(SKEW_TO_CORRECT) < 0) {
        return false;
      }
      skew = Duration.between(now, theirs);
      return true;
    } catch (DateTimeParseException e) {
      return false;
    }
  }
}
