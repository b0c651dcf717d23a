package dev.drainguard.aws;

import dev.drainguard.imds.HttpInstanceMetadata;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The credentials the agent signs with, looked for in the order of the AWS SDK's default chain as
 * the agent used it: system properties {@code aws.accessKeyId}/{@code aws.secretAccessKey}/{@code
 * aws.sessionToken}; environment {@code AWS_ACCESS_KEY_ID}/{@code AWS_SECRET_ACCESS_KEY}/{@code
 * AWS_SESSION_TOKEN}; static keys of the shared credentials and config files ({@link
 * ProfileCredentials}); the EC2 instance profile from IMDS ({@link InstanceProfileCredentials}).
 *
 * <p>The first source that gives credentials is kept, as the SDK's chain kept its last provider:
 * static keys for good, the instance profile with its refresh. While none gives any, every call
 * looks again from the top. A profile that asks for what the agent does not do (assume a role, SSO,
 * a credential process) is logged once at WARN and skipped, as the SDK skipped it without its STS
 * and SSO modules.
 *
 * <p>Thread-safe.
 */
public final class CredentialsChain implements CredentialsProvider {

  private static final Logger log = LoggerFactory.getLogger(CredentialsChain.class);

  private final Map<String, String> env;
  private final Function<String, String> properties;
  private final ProfileCredentials profiles;
  private final InstanceProfileCredentials instanceProfile;
  private volatile CredentialsProvider found;
  private boolean warnedProfile;

  /**
   * @param env the environment ({@code System.getenv()} in production)
   * @param properties the system properties ({@code System::getProperty} in production)
   * @param imds the agent's IMDS endpoint, guarded; the only place instance-profile credentials are
   *     read from
   * @param clock ages the instance profile's credentials
   */
  public CredentialsChain(
      Map<String, String> env,
      Function<String, String> properties,
      HttpInstanceMetadata imds,
      Clock clock) {
    this.env = Map.copyOf(env);
    this.properties = properties;
    this.profiles = new ProfileCredentials(this.env, properties);
    this.instanceProfile =
        new InstanceProfileCredentials(
            imds::instanceProfileCredentials, "IMDS " + imds.endpoint(), clock);
  }

  @Override
  public AwsCredentials resolve() {
    CredentialsProvider f = found;
    if (f != null) {
      return f.resolve();
    }
    synchronized (this) {
      if (found == null) {
        found = look();
      }
      return found.resolve();
    }
  }

  @Override
  public void refused(AwsCredentials credentials) {
    CredentialsProvider f = found;
    if (f != null) {
      f.refused(credentials);
    }
  }

  /** The first source that has credentials, from the top. */
  private CredentialsProvider look() {
    List<String> tried = new ArrayList<>();
    Optional<AwsCredentials> c =
        keys(
            "system properties",
            "aws.accessKeyId",
            "aws.secretAccessKey",
            "aws.sessionToken",
            properties,
            tried);
    if (c.isEmpty()) {
      c =
          keys(
              "env",
              "AWS_ACCESS_KEY_ID",
              "AWS_SECRET_ACCESS_KEY",
              "AWS_SESSION_TOKEN",
              env::get,
              tried);
    }
    if (c.isEmpty()) {
      c = profile(tried);
    }
    if (c.isPresent()) {
      log.info("aws credentials found source=\"{}\"", c.get().source());
      return CredentialsProvider.fixed(c.get());
    }
    CredentialsException last;
    Optional<String> disabled = imdsDisabled();
    if (disabled.isPresent()) {
      tried.add("instance profile: disabled by " + disabled.get());
      last = null;
    } else {
      try {
        log.info("aws credentials found source=\"{}\"", instanceProfile.resolve().source());
        return instanceProfile;
      } catch (CredentialsException e) {
        tried.add(e.getMessage());
        last = e;
      }
    }
    throw new CredentialsException(
        "no AWS credentials found; tried in order: "
            + String.join("; ", tried)
            + ". Attach an instance profile (an IAM role) to this instance, or set"
            + " AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in drainguard's environment",
        last);
  }

  private static Optional<AwsCredentials> keys(
      String kind,
      String idName,
      String secretName,
      String tokenName,
      Function<String, String> lookup,
      List<String> tried) {
    Optional<String> id = ProfileCredentials.nonBlank(lookup.apply(idName));
    Optional<String> secret = ProfileCredentials.nonBlank(lookup.apply(secretName));
    if (id.isPresent() && secret.isPresent()) {
      return Optional.of(
          new AwsCredentials(
              id.get(),
              secret.get(),
              ProfileCredentials.nonBlank(lookup.apply(tokenName)),
              Optional.empty(),
              kind + " " + idName));
    }
    if (id.isEmpty() && secret.isEmpty()) {
      tried.add(kind + " " + idName + ": not set");
    } else {
      tried.add(
          kind
              + " "
              + (id.isPresent() ? idName : secretName)
              + " is set without "
              + (id.isPresent() ? secretName : idName));
    }
    return Optional.empty();
  }

  private Optional<AwsCredentials> profile(List<String> tried) {
    ProfileCredentials.Outcome outcome = profiles.read();
    if (outcome instanceof ProfileCredentials.Found found) {
      return Optional.of(found.credentials());
    }
    ProfileCredentials.Skipped skipped = (ProfileCredentials.Skipped) outcome;
    tried.add(skipped.reason());
    if (skipped.unsupportedKey().isPresent() && !warnedProfile) {
      warnedProfile = true;
      log.warn(
          "aws profile skipped: drainguard reads only static keys from profiles profile={} key={}"
              + " detail=\"{}\"",
          profiles.profileName(),
          skipped.unsupportedKey().get(),
          skipped.reason());
    }
    return Optional.empty();
  }

  /**
   * The SDK's switch for instance-profile credentials ({@code aws.disableEc2Metadata}, {@code
   * AWS_EC2_METADATA_DISABLED}), honoured as the SDK's chain honoured it.
   */
  private Optional<String> imdsDisabled() {
    if ("true".equalsIgnoreCase(properties.apply("aws.disableEc2Metadata"))) {
      return Optional.of("system property aws.disableEc2Metadata=true");
    }
    if ("true".equalsIgnoreCase(env.get("AWS_EC2_METADATA_DISABLED"))) {
      return Optional.of("env AWS_EC2_METADATA_DISABLED=true");
    }
    return Optional.empty();
  }
}
