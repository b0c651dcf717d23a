package dev.drainguard.lifecycle;

import dev.drainguard.net.Endpoint;
import java.net.URI;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.autoscaling.endpoints.AutoScalingEndpointParams;
import software.amazon.awssdk.services.autoscaling.endpoints.AutoScalingEndpointProvider;

/**
 * The Auto Scaling endpoint of a region when no endpoint URL is configured, by the SDK's own
 * endpoint rules (partition, FIPS, dual-stack), so that what {@code check} prints and the loopback
 * guard judges is exactly the URL the client will call.
 */
public final class AutoScalingEndpoints {

  private AutoScalingEndpoints() {}

  /**
   * The region's endpoint, e.g. {@code https://autoscaling.eu-west-1.amazonaws.com}, or its FIPS
   * ({@code autoscaling-fips.…}) or dual-stack ({@code ….api.aws}) variant.
   *
   * @param options why FIPS or dual-stack is on, appended to the source; empty when neither is
   */
  public static Endpoint regional(String region, boolean fips, boolean dualStack, String options) {
    URI uri =
        AutoScalingEndpointProvider.defaultProvider()
            .resolveEndpoint(
                AutoScalingEndpointParams.builder()
                    .region(Region.of(region))
                    .useFips(fips)
                    .useDualStack(dualStack)
                    .build())
            .join()
            .url();
    String source = "the SDK's endpoint rules for region " + region;
    return new Endpoint(uri, options.isEmpty() ? source : source + ", " + options);
  }
}
