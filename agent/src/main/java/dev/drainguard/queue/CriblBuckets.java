package dev.drainguard.queue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;

/** The age of a Cribl metrics answer: the time of its newest bucket. */
final class CriblBuckets {

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * How old Cribl's latest metrics bucket may be before its figures are not believed: Cribl writes
   * a bucket every few seconds, so a minute without one means the worker process is not reporting.
   */
  static final Duration STALE_BUCKET = Duration.ofMinutes(1);

  private CriblBuckets() {}

  /**
   * When the answer's figures were measured, if before the read started: the reading carries its
   * latest metrics bucket's time; a bucket more than {@link #STALE_BUCKET} old is no reading.
   */
  static Instant measuredBy(int wp, String body, Instant started, Instant sofar)
      throws CriblApiProbe.Unknown {
    long t;
    try {
      t = latestTime(JSON.readTree(body));
    } catch (IOException e) { // parse() says what is wrong with it
      return sofar;
    }
    if (t == Long.MIN_VALUE) {
      return sofar;
    }
    Instant bucket = Instant.ofEpochSecond(t);
    if (bucket.isBefore(started.minus(STALE_BUCKET))) {
      throw new CriblApiProbe.Unknown(
          "worker process "
              + wp
              + ": its latest metrics bucket is from "
              + bucket
              + ", more than "
              + STALE_BUCKET.toSeconds()
              + " s before the read: the worker process is not reporting");
    }
    return bucket.isBefore(sofar) ? bucket : sofar;
  }

  private static long latestTime(JsonNode root) {
    JsonNode buckets = root == null ? null : root.path("results").path("metrics");
    if (buckets == null || !buckets.isArray()) {
      buckets = root == null ? null : root.path("items");
    }
    long latest = Long.MIN_VALUE;
    if (buckets != null && buckets.isArray()) {
      for (JsonNode bucket : buckets) {
        latest = Math.max(latest, bucket.path("_time").path(0).path("val").asLong(Long.MIN_VALUE));
      }
    }
    return latest;
  }
}
