package dev.drainguard.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drainguard.net.Endpoint;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The effective endpoints and where they came from: drainguard's settings, then the AWS SDK's
 * standard settings in the SDK's order, then the defaults.
 */
class AwsEndpointsTest {

  static final String MOTO = "http://127.0.0.1:5000";
  static final String OTHER = "http://127.0.0.1:6000";

  @TempDir Path dir;

  final Map<String, String> env = new HashMap<>();
  final Map<Setting, List<String>> flags = new EnumMap<>(Setting.class);

  @BeforeEach
  void noSharedConfigFile() {
    // never the machine's own ~/.aws/config
    env.put("AWS_CONFIG_FILE", dir.resolve("absent").toString());
  }

  AwsEndpoints endpoints() {
    return new ConfigLoader(flags, env, Optional.empty()).loadWithoutFile().endpoints();
  }

  Path awsConfig(String... lines) throws IOException {
    Path f = Files.write(dir.resolve("aws-config"), List.of(lines));
    env.put("AWS_CONFIG_FILE", f.toString());
    return f;
  }

  // Issue 14: `--loopback-only true` with only AWS_ENDPOINT_URL_AUTO_SCALING set was refused as
  // "endpoint null": the variable was not read at all.
  @Test
  void onlyTheServiceVariable_isTheAutoScalingEndpoint() {
    env.put("AWS_ENDPOINT_URL_AUTO_SCALING", MOTO);

    AwsEndpoints e = endpoints();

    Endpoint expected = new Endpoint(URI.create(MOTO), "env AWS_ENDPOINT_URL_AUTO_SCALING");
    assertThat(e.autoScalingUrl()).contains(expected);
    assertThat(e.autoScaling("eu-west-1")).isEqualTo(expected);
    assertThat(expected).hasToString(MOTO + " (from env AWS_ENDPOINT_URL_AUTO_SCALING)");
  }

  @Test
  void globalVariable_usedWhenNoServiceVariable_serviceVariableWins() {
    env.put("AWS_ENDPOINT_URL", OTHER);
    assertThat(endpoints().autoScaling("us-east-1"))
        .isEqualTo(new Endpoint(URI.create(OTHER), "env AWS_ENDPOINT_URL"));

    env.put("AWS_ENDPOINT_URL_AUTO_SCALING", MOTO);
    assertThat(endpoints().autoScaling("us-east-1").uri()).isEqualTo(URI.create(MOTO));
  }

  @Test
  void drainguardsSetting_winsOverTheSdkSettings() {
    env.put("AWS_ENDPOINT_URL_AUTO_SCALING", MOTO);
    env.put("DRAINGUARD_AUTOSCALING_ENDPOINT", OTHER);
    assertThat(endpoints().autoScaling("us-east-1"))
        .isEqualTo(new Endpoint(URI.create(OTHER), "env DRAINGUARD_AUTOSCALING_ENDPOINT"));

    flags.put(Setting.AUTOSCALING_ENDPOINT, List.of("http://127.0.0.1:7000"));
    assertThat(endpoints().autoScaling("us-east-1"))
        .isEqualTo(
            new Endpoint(URI.create("http://127.0.0.1:7000"), "flag --autoscaling-endpoint"));
  }

  @ParameterizedTest(name = "{0} fips={1} dual-stack={2}: {3}")
  @CsvSource({
    "eu-west-1, false, false, https://autoscaling.eu-west-1.amazonaws.com",
    "us-east-1, true, false, https://autoscaling-fips.us-east-1.amazonaws.com",
    "us-east-1, false, true, https://autoscaling.us-east-1.api.aws",
    "us-east-1, true, true, https://autoscaling-fips.us-east-1.api.aws",
    "cn-north-1, false, false, https://autoscaling.cn-north-1.amazonaws.com.cn"
  })
  void nothingSet_theRegionsEndpointByPartitionRules(
      String region, boolean fips, boolean dualStack, String url) {
    if (fips) {
      env.put("AWS_USE_FIPS_ENDPOINT", "true");
    }
    if (dualStack) {
      env.put("AWS_USE_DUALSTACK_ENDPOINT", "TRUE");
    }

    Endpoint e = endpoints().autoScaling(region);

    assertThat(e.uri()).isEqualTo(URI.create(url));
    assertThat(e.source()).startsWith("the AWS partition rules for region " + region);
    assertThat(e.source().contains("FIPS from env AWS_USE_FIPS_ENDPOINT")).isEqualTo(fips);
    assertThat(e.source().contains("dual-stack from env AWS_USE_DUALSTACK_ENDPOINT"))
        .isEqualTo(dualStack);
  }

  // The region may come from --region as typed: one that is no region name is a configuration
  // error (exit 78, one line), not an unexpected error with a stack trace.
  @Test
  void nothingSet_regionNotAName_configErrorSayingWhereToSetIt() {
    assertThatThrownBy(() -> endpoints().autoScaling("eu west 1"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("no Auto Scaling endpoint for region 'eu west 1':")
        .hasMessageContaining("set --region (DRAINGUARD_REGION)");

    env.put("AWS_ENDPOINT_URL_AUTO_SCALING", MOTO);
    assertThat(endpoints().autoScaling("eu west 1").uri()).isEqualTo(URI.create(MOTO));
  }

  @Test
  void imds_defaultThenSdkVariableThenDrainguards() {
    assertThat(endpoints().imds())
        .isEqualTo(new Endpoint(URI.create("http://169.254.169.254"), "default"));

    env.put("AWS_EC2_METADATA_SERVICE_ENDPOINT", MOTO);
    assertThat(endpoints().imds())
        .isEqualTo(new Endpoint(URI.create(MOTO), "env AWS_EC2_METADATA_SERVICE_ENDPOINT"));

    env.put("DRAINGUARD_IMDS_ENDPOINT", OTHER);
    assertThat(endpoints().imds())
        .isEqualTo(new Endpoint(URI.create(OTHER), "env DRAINGUARD_IMDS_ENDPOINT"));
  }

  @Test
  void imds_endpointModeIpv6_theIpv6Address() {
    env.put("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6");

    assertThat(endpoints().imds())
        .isEqualTo(
            new Endpoint(
                URI.create("http://[fd00:ec2::254]"),
                "env AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6"));
  }

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource({
    "AWS_ENDPOINT_URL_AUTO_SCALING, not a url, an http:// or https:// URL with a host",
    "AWS_ENDPOINT_URL, ftp://127.0.0.1, an http:// or https:// URL with a host",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT, 169.254.169.254, an http:// or https:// URL with a host",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE, IPv5, IPv4 or IPv6",
    "AWS_USE_FIPS_ENDPOINT, maybe, true or false"
  })
  void invalidSdkSetting_configErrorNamingTheVariable(String name, String value, String accepted) {
    env.put(name, value);

    assertThatThrownBy(this::endpoints)
        .isInstanceOf(ConfigException.class)
        .hasMessage("invalid '%s' (from env %s): expected %s", value, name, accepted);
  }

  @Test
  void blankVariables_areUnset() {
    env.put("AWS_ENDPOINT_URL_AUTO_SCALING", " ");
    env.put("AWS_EC2_METADATA_SERVICE_ENDPOINT", "");

    assertThat(endpoints().autoScalingUrl()).isEmpty();
    assertThat(endpoints().imds().source()).isEqualTo("default");
  }

  @Test
  void sharedConfigFile_profileEndpointUrl() throws IOException {
    Path f = awsConfig("[default]", "endpoint_url = " + MOTO);

    assertThat(endpoints().autoScaling("us-east-1"))
        .isEqualTo(new Endpoint(URI.create(MOTO), "profile default in " + f + " (endpoint_url)"));
  }

  @Test
  void sharedConfigFile_servicesSectionBeatsTheProfilesGlobalUrl_envBeatsBoth() throws IOException {
    Path f =
        awsConfig(
            "[profile dev]",
            "endpoint_url = " + OTHER,
            "services = local",
            "[services local]",
            "auto_scaling =",
            "  endpoint_url = " + MOTO,
            "[default]",
            "endpoint_url = http://127.0.0.1:9999");
    env.put("AWS_PROFILE", "dev");

    assertThat(endpoints().autoScaling("us-east-1"))
        .isEqualTo(
            new Endpoint(
                URI.create(MOTO),
                "services local of profile dev in " + f + " (auto_scaling.endpoint_url)"));

    env.put("AWS_ENDPOINT_URL", "http://127.0.0.1:7000");
    assertThat(endpoints().autoScaling("us-east-1").source()).isEqualTo("env AWS_ENDPOINT_URL");
  }

  @Test
  void sharedConfigFile_imdsEndpointAndFips() throws IOException {
    Path f =
        awsConfig(
            "[default]", "ec2_metadata_service_endpoint = " + OTHER, "use_fips_endpoint = true");

    AwsEndpoints e = endpoints();

    assertThat(e.imds())
        .isEqualTo(
            new Endpoint(
                URI.create(OTHER), "profile default in " + f + " (ec2_metadata_service_endpoint)"));
    assertThat(e.autoScaling("us-east-1").uri())
        .isEqualTo(URI.create("https://autoscaling-fips.us-east-1.amazonaws.com"));
  }

  @Test
  void systemProperties_comeBeforeTheEnvironment_asTheSdkReadsThem() {
    Map<String, String> props =
        Map.of("aws.endpointUrlAutoScaling", OTHER, "user.home", dir.toString());
    StandardAwsSettings aws =
        new StandardAwsSettings(Map.of("AWS_ENDPOINT_URL_AUTO_SCALING", MOTO), props::get);

    assertThat(aws.autoScalingEndpoint())
        .contains(
            new StandardAwsSettings.Found(OTHER, "system property aws.endpointUrlAutoScaling"));
  }
}
