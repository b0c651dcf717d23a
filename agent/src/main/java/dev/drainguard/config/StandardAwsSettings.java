package dev.drainguard.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import software.amazon.awssdk.profiles.Profile;
import software.amazon.awssdk.profiles.ProfileFile;

/**
 * The AWS SDK's own endpoint settings, read in the SDK's order (system property, environment
 * variable, shared config file) from an environment that is passed in, so tests can inject it and
 * production passes the process environment. Each value comes with where it was found.
 *
 * <p>Only the shared config file is read ({@code AWS_CONFIG_FILE}, else {@code ~/.aws/config};
 * profile {@code AWS_PROFILE}, else {@code default}), as the SDK reads these settings only there.
 */
final class StandardAwsSettings {

  /** A raw value and where it came from, e.g. {@code env AWS_ENDPOINT_URL}. */
  record Found(String value, String source) {}

  /** The id by which the SDK names Auto Scaling in settings: AWS_ENDPOINT_URL_AUTO_SCALING etc. */
  static final String SERVICE_ENV = "AWS_ENDPOINT_URL_AUTO_SCALING";

  static final String SERVICE_PROPERTY = "aws.endpointUrlAutoScaling";
  static final String SERVICE_KEY = "auto_scaling";

  private final Map<String, String> env;
  private final Function<String, String> properties;
  private Optional<Profiles> profiles;

  /**
   * @param env the environment ({@code System.getenv()} in production)
   * @param properties the system properties ({@code System::getProperty} in production)
   */
  StandardAwsSettings(Map<String, String> env, Function<String, String> properties) {
    this.env = Map.copyOf(env);
    this.properties = properties;
  }

  /** The Auto Scaling endpoint URL, service-specific before global, as the SDK orders them. */
  Optional<Found> autoScalingEndpoint() {
    return first(
        () -> property(SERVICE_PROPERTY),
        () -> property("aws.endpointUrl"),
        () -> env(SERVICE_ENV),
        () -> env("AWS_ENDPOINT_URL"),
        () -> profiles().flatMap(p -> p.service(SERVICE_KEY + ".endpoint_url")),
        () -> profiles().flatMap(p -> p.property(SERVICE_KEY + ".endpoint_url")),
        () -> profiles().flatMap(p -> p.property("endpoint_url")));
  }

  Optional<Found> imdsEndpoint() {
    return setting(
        "aws.ec2MetadataServiceEndpoint",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        "ec2_metadata_service_endpoint");
  }

  Optional<Found> imdsEndpointMode() {
    return setting(
        "aws.ec2MetadataServiceEndpointMode",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
        "ec2_metadata_service_endpoint_mode");
  }

  Optional<Found> fips() {
    return setting("aws.useFipsEndpoint", "AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint");
  }

  Optional<Found> dualStack() {
    return setting(
        "aws.useDualstackEndpoint", "AWS_USE_DUALSTACK_ENDPOINT", "use_dualstack_endpoint");
  }

  private Optional<Found> setting(String property, String envName, String profileKey) {
    return first(
        () -> property(property),
        () -> env(envName),
        () -> profiles().flatMap(p -> p.property(profileKey)));
  }

  @SafeVarargs
  private static Optional<Found> first(Supplier<Optional<Found>>... lookups) {
    return Stream.of(lookups).map(Supplier::get).flatMap(Optional::stream).findFirst();
  }

  private Optional<Found> property(String name) {
    return nonBlank(properties.apply(name)).map(v -> new Found(v, "system property " + name));
  }

  private Optional<Found> env(String name) {
    return nonBlank(env.get(name)).map(v -> new Found(v, "env " + name));
  }

  private static Optional<String> nonBlank(String v) {
    return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.strip());
  }

  /** The shared config file's profile, read once; empty when there is no file. */
  private Optional<Profiles> profiles() {
    if (profiles == null) {
      profiles = Profiles.read(configFile(), profileName());
    }
    return profiles;
  }

  private Path configFile() {
    String named = nonBlank(properties.apply("aws.configFile")).orElse(env.get("AWS_CONFIG_FILE"));
    if (named != null && !named.isBlank()) {
      String n = named.strip();
      if (n.startsWith("~/")) {
        return Path.of(properties.apply("user.home"), n.substring(2));
      }
      return Path.of(n);
    }
    return Path.of(properties.apply("user.home"), ".aws", "config");
  }

  private String profileName() {
    return nonBlank(properties.apply("aws.profile"))
        .or(() -> nonBlank(env.get("AWS_PROFILE")))
        .orElse("default");
  }

  /** One profile of a shared config file, and its {@code services} section if it names one. */
  private record Profiles(Path file, String name, Optional<Profile> profile, ProfileFile all) {

    static Optional<Profiles> read(Path file, String name) {
      if (!Files.isRegularFile(file)) {
        return Optional.empty();
      }
      ProfileFile parsed;
      try {
        parsed = ProfileFile.builder().content(file).type(ProfileFile.Type.CONFIGURATION).build();
      } catch (RuntimeException e) {
        throw new ConfigException(
            "cannot read the AWS config file " + file + ": " + e.getMessage());
      }
      return Optional.of(new Profiles(file, name, parsed.profile(name), parsed));
    }

    Optional<Found> property(String key) {
      return profile
          .flatMap(p -> p.property(key))
          .flatMap(StandardAwsSettings::nonBlank)
          .map(v -> new Found(v, "profile " + name + " in " + file + " (" + key + ")"));
    }

    Optional<Found> service(String key) {
      Optional<String> section = profile.flatMap(p -> p.property("services"));
      return section.flatMap(
          s ->
              all.getSection("services", s)
                  .flatMap(p -> p.property(key))
                  .flatMap(StandardAwsSettings::nonBlank)
                  .map(
                      v ->
                          new Found(
                              v,
                              "services "
                                  + s
                                  + " of profile "
                                  + name
                                  + " in "
                                  + file
                                  + " ("
                                  + key
                                  + ")")));
    }
  }
}
