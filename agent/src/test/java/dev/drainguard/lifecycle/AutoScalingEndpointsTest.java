package dev.drainguard.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drainguard.net.Endpoint;
import java.net.URI;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.autoscaling.endpoints.AutoScalingEndpointParams;
import software.amazon.awssdk.services.autoscaling.endpoints.AutoScalingEndpointProvider;

/**
 * The agent's own partition table against the SDK's Auto Scaling endpoint provider, which the agent
 * no longer ships but the tests still have: the same URL, or a refusal where it refuses.
 */
class AutoScalingEndpointsTest {

  /**
   * Names no partition lists, so that each partition's pattern is what places them: a few per
   * pattern, and some that match none (the default partition, {@code aws}), including a GovCloud
   * name in capitals, which the rules' patterns and lists do not match either.
   */
  static final List<String> MADE_UP =
      List.of(
          "us-east-99",
          "eu-north-7",
          "mx-west-9",
          "il-south-3",
          "cn-west-9",
          "eusc-de-north-4",
          "us-iso-south-5",
          "us-isob-north-2",
          "eu-isoe-east-4",
          "us-isof-west-8",
          "us-gov-north-3",
          "mars-central-1",
          "eusc-fr-east-1",
          "us-gov-west",
          "local",
          "US-GOV-WEST-1");

  static Stream<Arguments> everyRegionAndCombination() {
    return Stream.concat(Region.regions().stream().map(Region::id), MADE_UP.stream())
        .flatMap(
            r ->
                Stream.of(
                    Arguments.of(r, false, false),
                    Arguments.of(r, true, false),
                    Arguments.of(r, false, true),
                    Arguments.of(r, true, true)));
  }

  @ParameterizedTest(name = "{0} fips={1} dual-stack={2}")
  @MethodSource("everyRegionAndCombination")
  void regional_isTheSdkProvidersEndpoint_orRefusedWhereItRefuses(
      String region, boolean fips, boolean dualStack) throws Exception {
    String sdk = outcome(() -> sdkEndpoint(region, fips, dualStack), Exception.class);
    String ours =
        outcome(
            () -> AutoScalingEndpoints.regional(region, fips, dualStack, "").uri(),
            IllegalArgumentException.class);

    assertThat(ours).isEqualTo(sdk);
  }

  @Test
  void regional_sourceNamesTheRulesTheRegionAndWhy() {
    Endpoint e = AutoScalingEndpoints.regional("us-gov-west-1", true, false, "FIPS from env X");

    assertThat(e)
        .hasToString(
            "https://autoscaling.us-gov-west-1.amazonaws.com (from the AWS partition rules for"
                + " region us-gov-west-1, FIPS from env X)");
    assertThat(AutoScalingEndpoints.regional("cn-north-1", false, false, "").source())
        .isEqualTo("the AWS partition rules for region cn-north-1");
  }

  // The SDK takes any string: a space makes its URL fail to parse, an underscore or a dot gives a
  // URL with no host or with another host name's labels; either would reach the guard and the
  // client as a puzzle. The agent says what is wrong instead.
  @ParameterizedTest(name = "''{0}''")
  @ValueSource(strings = {"", "us east 1", "us_east_1", "us-east-1.example.com", "-us-east-1"})
  void regional_notADnsLabel_refusedSayingWhatARegionIsAndWhereToSetIt(String region) {
    assertThatThrownBy(() -> AutoScalingEndpoints.regional(region, false, false, ""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "no Auto Scaling endpoint for region '%s': a region is one DNS label, such as"
                + " eu-west-1; set --region (DRAINGUARD_REGION) to the instance's region, or"
                + " --autoscaling-endpoint",
            region);
  }

  private static URI sdkEndpoint(String region, boolean fips, boolean dualStack) {
    return AutoScalingEndpointProvider.defaultProvider()
        .resolveEndpoint(
            AutoScalingEndpointParams.builder()
                .region(Region.of(region))
                .useFips(fips)
                .useDualStack(dualStack)
                .build())
        .join()
        .url();
  }

  /** The URL, or {@code refused} for a {@code refusal}; any other exception fails the test. */
  private static String outcome(Callable<URI> endpoint, Class<? extends Exception> refusal)
      throws Exception {
    try {
      return endpoint.call().toString();
    } catch (Exception e) {
      if (refusal.isInstance(e)) {
        return "refused";
      }
      throw e;
    }
  }
}
