package dev.drainguard.aws;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * One set of AWS credentials: an access key, its secret, the session token of temporary
 * credentials, and when they expire (empty for long-term keys).
 *
 * @param source where they came from, for logs and {@code check} (never the secret), e.g. {@code
 *     env AWS_ACCESS_KEY_ID} or {@code instance profile role drainguard-worker}
 */
public record AwsCredentials(
    String accessKeyId,
    String secretAccessKey,
    Optional<String> sessionToken,
    Optional<Instant> expiration,
    String source) {

  public AwsCredentials {
    Objects.requireNonNull(accessKeyId, "accessKeyId");
    Objects.requireNonNull(secretAccessKey, "secretAccessKey");
    Objects.requireNonNull(sessionToken, "sessionToken");
    Objects.requireNonNull(expiration, "expiration");
    Objects.requireNonNull(source, "source");
  }

  /** Long-term keys that do not expire. */
  public static AwsCredentials of(String accessKeyId, String secretAccessKey, String source) {
    return new AwsCredentials(
        accessKeyId, secretAccessKey, Optional.empty(), Optional.empty(), source);
  }

  /** The secret is never printed. */
  @Override
  public String toString() {
    return "AwsCredentials[" + accessKeyId + " from " + source + "]";
  }
}
