package dev.drainguard.config;

import dev.drainguard.config.StandardAwsSettings.Found;
import dev.drainguard.lifecycle.AutoScalingEndpoints;
import dev.drainguard.net.Endpoint;
import java.net.URI;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;

/**
 * The endpoints the agent calls, each resolved once with where it came from.
 *
 * <p>Precedence, for each endpoint: drainguard's own setting (flag, then {@code DRAINGUARD_*}, then
 * drainguard.conf), then the AWS SDK's standard settings in the SDK's own order (system property,
 * then environment variable, then the shared config file; service-specific before global), then the
 * default. drainguard's setting stands where the SDK puts an endpoint set in code, which it ranks
 * first. So {@code AWS_ENDPOINT_URL_AUTO_SCALING} alone is enough, and {@code
 * --autoscaling-endpoint} overrides it.
 *
 * @param imds the IMDS endpoint: drainguard's, else {@code AWS_EC2_METADATA_SERVICE_ENDPOINT} (or
 *     its endpoint mode, IPv4 or IPv6), else {@code http://169.254.169.254}
 * @param autoScalingUrl an Auto Scaling endpoint URL that was set; empty for the region's
 * @param fips {@code AWS_USE_FIPS_ENDPOINT} and its equivalents, for the region's endpoint
 * @param dualStack {@code AWS_USE_DUALSTACK_ENDPOINT} and its equivalents, likewise
 */
public record AwsEndpoints(
    Endpoint imds, Optional<Endpoint> autoScalingUrl, Option fips, Option dualStack) {

  /** The IMDS address of the IPv4 endpoint mode, the SDK's default. */
  static final URI IMDS_IPV4 = URI.create("http://169.254.169.254");

  /** The IMDS address of the IPv6 endpoint mode (Nitro instances). */
  static final URI IMDS_IPV6 = URI.create("http://[fd00:ec2::254]");

  /** An on/off setting and where it was set; off with source {@code default} when not set. */
  public record Option(boolean on, String source) {
    static final Option OFF = new Option(false, "default");
  }

  /**
   * The Auto Scaling endpoint in {@code region}: the URL that was set, else the region's by the AWS
   * partition rules, with FIPS and dual-stack as set.
   *
   * @throws ConfigException when no URL was set and {@code region} is no region name
   */
  public Endpoint autoScaling(String region) {
    if (autoScalingUrl.isPresent()) {
      return autoScalingUrl.get();
    }
    StringBuilder why = new StringBuilder();
    for (Option o : new Option[] {fips, dualStack}) {
      if (o.on()) {
        why.append(why.length() == 0 ? "" : ", ")
            .append(o == fips ? "FIPS" : "dual-stack")
            .append(" from ")
            .append(o.source());
      }
    }
    try {
      return AutoScalingEndpoints.regional(region, fips.on(), dualStack.on(), why.toString());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
  }

  /**
   * @param settings drainguard's URL settings with where each came from (source {@code default} for
   *     the default)
   */
  static AwsEndpoints resolve(
      Function<Setting, Optional<Endpoint>> settings, StandardAwsSettings aws) {
    Endpoint imdsSetting = settings.apply(Setting.IMDS_ENDPOINT).orElseThrow();
    Optional<Endpoint> autoScalingSetting = settings.apply(Setting.AUTOSCALING_ENDPOINT);
    Endpoint imds = imdsSetting;
    if (imdsSetting.source().equals("default")) {
      imds =
          aws.imdsEndpoint()
              .map(f -> new Endpoint(uri(f), f.source()))
              .or(() -> aws.imdsEndpointMode().map(AwsEndpoints::byMode))
              .orElse(imdsSetting);
    }
    Optional<Endpoint> autoScaling =
        autoScalingSetting.or(
            () -> aws.autoScalingEndpoint().map(f -> new Endpoint(uri(f), f.source())));
    return new AwsEndpoints(imds, autoScaling, option(aws.fips()), option(aws.dualStack()));
  }

  private static Endpoint byMode(Found mode) {
    return switch (mode.value().toLowerCase(Locale.ROOT)) {
      case "ipv4" -> new Endpoint(IMDS_IPV4, mode.source() + "=" + mode.value());
      case "ipv6" -> new Endpoint(IMDS_IPV6, mode.source() + "=" + mode.value());
      default -> throw invalid(mode, "IPv4 or IPv6");
    };
  }

  private static URI uri(Found f) {
    try {
      return Values.httpUri(f.value());
    } catch (IllegalArgumentException e) {
      throw invalid(f, "an http:// or https:// URL with a host");
    }
  }

  private static Option option(Optional<Found> found) {
    return found
        .map(
            f ->
                switch (f.value().toLowerCase(Locale.ROOT)) {
                  case "true" -> new Option(true, f.source());
                  case "false" -> new Option(false, f.source());
                  default -> throw invalid(f, "true or false");
                })
        .orElse(Option.OFF);
  }

  private static ConfigException invalid(Found f, String accepted) {
    return new ConfigException(
        String.format("invalid '%s' (from %s): expected %s", f.value(), f.source(), accepted));
  }
}
