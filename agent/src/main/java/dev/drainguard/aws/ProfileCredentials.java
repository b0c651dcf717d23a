package dev.drainguard.aws;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import software.amazon.awssdk.profiles.Profile;
import software.amazon.awssdk.profiles.ProfileFile;

/**
 * Static keys of one profile of the shared files, read as the SDK's {@code
 * ProfileCredentialsProvider} read them: the credentials file ({@code aws.sharedCredentialsFile},
 * {@code AWS_SHARED_CREDENTIALS_FILE}, else {@code ~/.aws/credentials}) before the config file
 * ({@code aws.configFile}, {@code AWS_CONFIG_FILE}, else {@code ~/.aws/config}, sections {@code
 * [profile x]}), merged key by key; profile {@code aws.profile}, {@code AWS_PROFILE}, else {@code
 * default}. A file that does not exist is not read.
 */
final class ProfileCredentials {

  /**
   * Keys of profiles that get credentials in ways the agent does not implement (STS, SSO, a
   * process), in the order the SDK looked for them: any of them made the SDK's provider fail over
   * to the next source, even beside static keys.
   */
  private static final List<String> UNSUPPORTED =
      List.of(
          "role_arn",
          "web_identity_token_file",
          "sso_session",
          "sso_start_url",
          "sso_account_id",
          "sso_role_name",
          "sso_region",
          "credential_process");

  /** What the files gave. */
  sealed interface Outcome {}

  record Found(AwsCredentials credentials) implements Outcome {}

  /**
   * Nothing usable.
   *
   * @param reason one clause for the chain's message, e.g. {@code profile default: no such profile
   *     in ...}
   * @param unsupportedKey the key that asked for what the agent does not do, when that was it
   */
  record Skipped(String reason, Optional<String> unsupportedKey) implements Outcome {}

  private final Map<String, String> env;
  private final Function<String, String> properties;

  ProfileCredentials(Map<String, String> env, Function<String, String> properties) {
    this.env = env;
    this.properties = properties;
  }

  String profileName() {
    return nonBlank(properties.apply("aws.profile"))
        .or(() -> nonBlank(env.get("AWS_PROFILE")))
        .orElse("default");
  }

  Outcome read() {
    String name = profileName();
    Path credentials =
        file("aws.sharedCredentialsFile", "AWS_SHARED_CREDENTIALS_FILE", "credentials");
    Path config = file("aws.configFile", "AWS_CONFIG_FILE", "config");
    List<String> read = new ArrayList<>();
    if (!Files.isRegularFile(credentials) && !Files.isRegularFile(config)) {
      // Said before the parser is touched: a worker without profile files loads none of it.
      return new Skipped(
          "profile " + name + ": neither " + credentials + " nor " + config + " exists",
          Optional.empty());
    }
    ProfileFile.Aggregator files = ProfileFile.aggregator();
    try {
      // The first file added wins a key both have: the credentials file, as in the SDK.
      if (Files.isRegularFile(credentials)) {
        files.addFile(parse(credentials, ProfileFile.Type.CREDENTIALS));
        read.add(credentials.toString());
      }
      if (Files.isRegularFile(config)) {
        files.addFile(parse(config, ProfileFile.Type.CONFIGURATION));
        read.add(config.toString());
      }
    } catch (RuntimeException e) {
      return new Skipped("profile " + name + ": " + oneLine(e.getMessage()), Optional.empty());
    }
    if (read.isEmpty()) {
      return new Skipped(
          "profile " + name + ": neither " + credentials + " nor " + config + " exists",
          Optional.empty());
    }
    String where = "profile " + name + " in " + String.join(" and ", read);
    Optional<Profile> profile = files.build().profile(name);
    if (profile.isEmpty()) {
      return new Skipped(where + ": no such profile", Optional.empty());
    }
    Map<String, String> p = profile.get().properties();
    for (String key : UNSUPPORTED) {
      if (p.containsKey(key)) {
        return new Skipped(
            where + ": " + key + " is not supported, only static keys", Optional.of(key));
      }
    }
    Optional<String> id = nonBlank(p.get("aws_access_key_id"));
    Optional<String> secret = nonBlank(p.get("aws_secret_access_key"));
    if (id.isEmpty() || secret.isEmpty()) {
      return new Skipped(
          where
              + ": "
              + (id.isEmpty()
                  ? "no aws_access_key_id"
                  : "aws_access_key_id without aws_secret_access_key"),
          Optional.empty());
    }
    return new Found(
        new AwsCredentials(
            id.get(), secret.get(), nonBlank(p.get("aws_session_token")), Optional.empty(), where));
  }

  private static ProfileFile parse(Path file, ProfileFile.Type type) {
    return ProfileFile.builder().content(file).type(type).build();
  }

  private Path file(String property, String envName, String defaultName) {
    Optional<String> named =
        nonBlank(properties.apply(property)).or(() -> nonBlank(env.get(envName)));
    String home = properties.apply("user.home");
    if (named.isPresent()) {
      String n = named.get();
      return n.startsWith("~/") ? Path.of(home, n.substring(2)) : Path.of(n);
    }
    return Path.of(home, ".aws", defaultName);
  }

  static Optional<String> nonBlank(String v) {
    return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.strip());
  }

  static String oneLine(String s) {
    return s == null ? "" : s.replaceAll("\\s*\\R\\s*", " ").strip();
  }
}
