package dev.drainguard.net;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drainguard.aws.AwsCredentials;
import dev.drainguard.aws.CredentialsProvider;
import dev.drainguard.imds.HttpInstanceMetadata;
import dev.drainguard.lifecycle.QueryLifecycleActions;
import java.net.URI;
import org.junit.jupiter.api.Test;

/**
 * Both AWS adapters refuse a real AWS address when they are built, in loopback-only mode, before
 * any socket exists ({@code BoundedHttpTest} shows the transport refusing each exchange too).
 * {@code LoopbackGuard.of(false)} is on here because the build sets the JVM-wide property.
 */
class AdapterGuardTest {

  @Test
  void imdsAdapter_linkLocalEndpoint_refusedAtConstruction() {
    URI imds = URI.create("http://169.254.169.254");

    assertThatThrownBy(
            () ->
                new HttpInstanceMetadata(
                    imds, LoopbackGuard.of(false), RetryPolicy.DEFAULT, d -> {}))
        .isInstanceOf(EndpointRefusedException.class)
        .hasMessageContaining("IMDS endpoint http://169.254.169.254");
  }

  // A null endpoint means "the region's": the refusal names the real AWS endpoint that would have
  // been called and where it came from (it once read "endpoint null").
  @Test
  void lifecycleAdapter_nullEndpoint_refusedAtConstructionNamingTheRegionalEndpoint() {
    assertThatThrownBy(
            () ->
                new QueryLifecycleActions(
                    "us-east-1",
                    (URI) null,
                    CredentialsProvider.fixed(AwsCredentials.of("test", "test", "test keys")),
                    LoopbackGuard.of(false),
                    RetryPolicy.DEFAULT,
                    d -> {}))
        .isInstanceOf(EndpointRefusedException.class)
        .hasMessageContaining(
            "Auto Scaling endpoint https://autoscaling.us-east-1.amazonaws.com (from the AWS partition"
                + " rules for region us-east-1)");
  }
}
