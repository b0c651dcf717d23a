package dev.drainguard.aws;

import dev.drainguard.imds.HttpInstanceMetadata.RoleDocument;
import dev.drainguard.status.JsonReader;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The EC2 instance profile's temporary credentials, read from IMDS and kept until shortly before
 * they expire. A refresh that fails while the credentials held are still valid keeps them (WARN);
 * credentials past their expiration are never given out.
 *
 * <p>Thread-safe: one thread fetches at a time; while it does, others get the credentials held if
 * they are still valid, else wait for it.
 */
final class InstanceProfileCredentials implements CredentialsProvider {

  private static final Logger log = LoggerFactory.getLogger(InstanceProfileCredentials.class);

  /**
   * Credentials are fetched again this long before they expire: EC2 puts new ones in IMDS well
   * before that, and a call signed just before the expiration may still arrive after it.
   */
  static final Duration REFRESH_BEFORE = Duration.ofMinutes(5);

  /**
   * After a fetch that did not give credentials outside the refresh window, the next one waits this
   * long while the ones held are valid: each fetch may take IMDS's retries (seconds), which every
   * Auto Scaling call would wait for; 30 s still gives ten tries in the window.
   */
  static final Duration REFETCH_PAUSE = Duration.ofSeconds(30);

  /** Built when a document is first parsed: an agent with static keys never needs it. */
  private final Supplier<Optional<RoleDocument>> imds;

  private final String where;
  private final Clock clock;
  private final ReentrantLock fetching = new ReentrantLock();
  private volatile AwsCredentials held;
  private volatile Instant nextFetch = Instant.MIN;

  /** The keys last warned of as looking expired by this host's clock. */
  private volatile String warnedClockFor;

  /** Credentials AWS refused: fetched anew at the next resolve, whatever their expiration says. */
  private volatile AwsCredentials refused;

  /**
   * @param imds reads the role and its document ({@code HttpInstanceMetadata}); empty when no
   *     instance profile is attached
   * @param where the IMDS endpoint, for messages, e.g. {@code IMDS http://169.254.169.254}
   */
  InstanceProfileCredentials(Supplier<Optional<RoleDocument>> imds, String where, Clock clock) {
    this.imds = imds;
    this.where = where;
    this.clock = clock;
  }

  /**
   * @throws CredentialsException when no valid credentials are held and IMDS gives none: no
   *     instance profile, IMDS failing, or a document that is not a success
   */
  @Override
  public void refused(AwsCredentials credentials) {
    if (credentials == held) {
      refused = credentials;
      nextFetch = Instant.MIN;
    }
  }

  @Override
  public AwsCredentials resolve() {
    AwsCredentials h = held;
    Instant now = clock.instant();
    if (h != null && h != refused && now.isBefore(refreshAt(h))) {
      return h;
    }
    boolean valid = h != null && now.isBefore(expiration(h));
    if (valid) {
      if (now.isBefore(nextFetch) || !fetching.tryLock()) {
        return h; // paced after a fetch, or another thread is fetching
      }
    } else {
      fetching.lock();
    }
    try {
      return fetchUnderLock();
    } finally {
      fetching.unlock();
    }
  }

  private AwsCredentials fetchUnderLock() {
    Instant now = clock.instant();
    AwsCredentials h = held;
    if (h != null && h != refused && now.isBefore(refreshAt(h))) {
      return h; // another thread fetched meanwhile
    }
    boolean valid = h != null && now.isBefore(expiration(h));
    if (valid && now.isBefore(nextFetch)) {
      return h;
    }
    try {
      AwsCredentials fresh = fetch(now);
      held = fresh;
      nextFetch = now.plus(REFETCH_PAUSE);
      log.info(
          "instance profile credentials fetched source=\"{}\" expiration={}",
          fresh.source(),
          expiration(fresh));
      return fresh;
    } catch (CredentialsException e) {
      if (!valid) {
        throw h == null
            ? e
            : new CredentialsException(
                e.getMessage() + "; the credentials held expired at " + expiration(h), e);
      }
      nextFetch = now.plus(REFETCH_PAUSE);
      log.warn(
          h == refused
              ? "instance profile credentials refresh failed after AWS refused the ones held;"
                  + " using them meanwhile expiration={} retry_in={}s error=\"{}\""
              : "instance profile credentials refresh failed, using the ones held until they"
                  + " expire expiration={} retry_in={}s error=\"{}\"",
          expiration(h),
          REFETCH_PAUSE.toSeconds(),
          e.getMessage());
      return h;
    }
  }

  private AwsCredentials fetch(Instant now) {
    Optional<RoleDocument> doc;
    try {
      doc = imds.get();
    } catch (RuntimeException e) {
      throw new CredentialsException(
          "instance profile from " + where + ": " + ProfileCredentials.oneLine(e.getMessage()), e);
    }
    if (doc.isEmpty()) {
      throw new CredentialsException(
          "instance profile from "
              + where
              + ": no instance profile is attached (iam/security-credentials/ answered 404)",
          null);
    }
    AwsCredentials c = parse(doc.get());
    if (!now.isBefore(expiration(c)) && !c.accessKeyId().equals(warnedClockFor)) {
      warnedClockFor = c.accessKeyId(); // once per set of keys: each call fetches them again
      // IMDS hands out keys it has just got from STS: if they look expired, the agent's clock is
      // what is wrong (ahead). They are used all the same, as the AWS SDKs use them; AWS judges,
      // and its refusal (ExpiredToken) brings a fetch again.
      log.warn(
          "instance profile credentials fetched already past their expiration by this host's"
              + " clock: the clock is ahead of AWS's by at least {}; using them source=\"{}\""
              + " expiration={} now={}",
          Duration.between(expiration(c), now),
          c.source(),
          expiration(c),
          now);
    }
    return c;
  }

  private AwsCredentials parse(RoleDocument doc) {
    String source = "instance profile role " + doc.role() + " from " + where;
    Object tree;
    try {
      tree = JsonReader.parse(doc.json());
    } catch (IOException e) {
      throw new CredentialsException(source + ": the document is not JSON", e);
    }
    if (!(tree instanceof JsonReader.Obj n)) {
      throw new CredentialsException(source + ": the document is not a JSON object", null);
    }
    String code = text(n, "Code").orElse("Success");
    if (!code.equals("Success")) {
      throw new CredentialsException(
          source
              + ": IMDS answered Code "
              + code
              + text(n, "Message").map(m -> " (" + ProfileCredentials.oneLine(m) + ")").orElse(""),
          null);
    }
    String id = required(n, "AccessKeyId", source);
    String secret = required(n, "SecretAccessKey", source);
    String expiration = required(n, "Expiration", source);
    Instant expires;
    try {
      expires = Instant.parse(expiration);
    } catch (DateTimeParseException e) {
      throw new CredentialsException(source + ": a bad Expiration '" + expiration + "'", e);
    }
    return new AwsCredentials(id, secret, text(n, "Token"), Optional.of(expires), source);
  }

  private static String required(JsonReader.Obj n, String field, String source) {
    return text(n, field)
        .orElseThrow(
            () -> new CredentialsException(source + ": the document has no " + field, null));
  }

  private static Optional<String> text(JsonReader.Obj n, String field) {
    return n.get(field) instanceof String v && !v.isBlank() ? Optional.of(v) : Optional.empty();
  }

  private static Instant expiration(AwsCredentials c) {
    return c.expiration().orElseThrow();
  }

  private static Instant refreshAt(AwsCredentials c) {
    return expiration(c).minus(REFRESH_BEFORE);
  }
}
