package dev.drainguard.lifecycle;

import dev.drainguard.net.Endpoint;
import java.net.URI;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The Auto Scaling endpoint of a region when no endpoint URL is configured, by the AWS partition
 * rules (partition, FIPS, dual-stack), so that what {@code check} prints and the loopback guard
 * judges is exactly the URL the client will call.
 *
 * <p>The rules are those of Auto Scaling's endpoint rule set and the partitions data it reads, as
 * AWS SDK for Java 2.41.28 carries them; {@code AutoScalingEndpointsTest} holds every region the
 * SDK knows, and made-up names in each partition, against the SDK's own endpoint provider. A region
 * belongs to the partition that lists it (here only the {@code *-global} names need listing: every
 * other listed region matches its partition's pattern too), else to the first whose pattern it
 * matches, else to {@code aws}. Every partition supports both FIPS and dual-stack, so no
 * combination is refused.
 */
public final class AutoScalingEndpoints {

  /**
   * A partition of the rules.
   *
   * @param global the region the partition lists that its pattern does not match, if any
   * @param dnsSuffix the suffix of its endpoints, e.g. {@code amazonaws.com.cn}
   * @param dualStackDnsSuffix the suffix of its dual-stack endpoints, e.g. {@code api.aws}
   */
  private record Partition(
      String id, String global, Pattern regions, String dnsSuffix, String dualStackDnsSuffix) {

    boolean holds(String region) {
      return region.equals(global) || regions.matcher(region).matches();
    }
  }

  /** In the rules' order; the first is the default. */
  private static final List<Partition> PARTITIONS =
      List.of(
          partition(
              "aws",
              "aws-global",
              "(us|eu|ap|sa|ca|me|af|il|mx)-\\w+-\\d+",
              "amazonaws.com",
              "api.aws"),
          partition(
              "aws-cn",
              "aws-cn-global",
              "cn-\\w+-\\d+",
              "amazonaws.com.cn",
              "api.amazonwebservices.com.cn"),
          partition(
              "aws-eusc", "", "eusc-(de)-\\w+-\\d+", "amazonaws.eu", "api.amazonwebservices.eu"),
          partition(
              "aws-iso", "aws-iso-global", "us-iso-\\w+-\\d+", "c2s.ic.gov", "api.aws.ic.gov"),
          partition(
              "aws-iso-b",
              "aws-iso-b-global",
              "us-isob-\\w+-\\d+",
              "sc2s.sgov.gov",
              "api.aws.scloud"),
          partition(
              "aws-iso-e",
              "aws-iso-e-global",
              "eu-isoe-\\w+-\\d+",
              "cloud.adc-e.uk",
              "api.cloud-aws.adc-e.uk"),
          partition(
              "aws-iso-f",
              "aws-iso-f-global",
              "us-isof-\\w+-\\d+",
              "csp.hci.ic.gov",
              "api.aws.hci.ic.gov"),
          partition(
              "aws-us-gov", "aws-us-gov-global", "us-gov-\\w+-\\d+", "amazonaws.com", "api.aws"));

  /**
   * What the rules take for a region; they take any string, but one that is not a DNS label gives
   * no usable URL (no host, or none at all).
   */
  private static final Pattern LABEL =
      Pattern.compile("[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?");

  private AutoScalingEndpoints() {}

  /**
   * The region's endpoint, e.g. {@code https://autoscaling.eu-west-1.amazonaws.com}, or its FIPS
   * ({@code autoscaling-fips.…}) or dual-stack ({@code ….api.aws}) variant.
   *
   * @param options why FIPS or dual-stack is on, appended to the source; empty when neither is
   * @throws IllegalArgumentException when {@code region} is not a DNS label, such as {@code
   *     eu-west-1}
   */
  public static Endpoint regional(String region, boolean fips, boolean dualStack, String options) {
    if (!LABEL.matcher(region).matches()) {
      throw new IllegalArgumentException(
          String.format(
              "no Auto Scaling endpoint for region '%s': a region is one DNS label, such as"
                  + " eu-west-1; set --region (DRAINGUARD_REGION) to the instance's region, or"
                  + " --autoscaling-endpoint",
              region));
    }
    Partition p =
        PARTITIONS.stream().filter(q -> q.holds(region)).findFirst().orElse(PARTITIONS.get(0));
    String host;
    if (fips && !dualStack && p.id().equals("aws-us-gov")) {
      // the rule set's one exception: GovCloud's FIPS endpoint has the plain name
      host = "autoscaling." + region + ".amazonaws.com";
    } else {
      host =
          (fips ? "autoscaling-fips." : "autoscaling.")
              + region
              + "."
              + (dualStack ? p.dualStackDnsSuffix() : p.dnsSuffix());
    }
    String source = "the AWS partition rules for region " + region;
    return new Endpoint(
        URI.create("https://" + host), options.isEmpty() ? source : source + ", " + options);
  }

  private static Partition partition(
      String id, String global, String regex, String dnsSuffix, String dualStackDnsSuffix) {
    return new Partition(id, global, Pattern.compile(regex), dnsSuffix, dualStackDnsSuffix);
  }
}
