package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drainguard.aws.CredentialsProvider;
import dev.drainguard.net.Endpoint;
import dev.drainguard.net.EndpointRefusedException;
import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.sim.Simulator;
import dev.drainguard.testing.MutableClock;
import java.net.URI;
import org.junit.jupiter.api.Test;

/** {@link Credentials#provider}: the agent's own chain, its IMDS guarded. */
class CredentialsTest {

  // Credentials must never come from anything but the configured IMDS, and never from the real
  // one while loopback-only mode is on.
  @Test
  void provider_nonLoopbackImdsInLoopbackOnlyMode_refusedBeforeAnyRequest() {
    Endpoint real = new Endpoint(URI.create("http://169.254.169.254"), "default");

    assertThatThrownBy(() -> Credentials.provider(real, LoopbackGuard.of(true)))
        .isInstanceOf(EndpointRefusedException.class)
        .hasMessageContaining("169.254.169.254");
  }

  // The build gives every test JVM aws.accessKeyId/aws.secretAccessKey: read from the process.
  @Test
  void provider_readsTheProcessSystemProperties() {
    try (Simulator sim = Simulator.start(MutableClock.atNewYear())) {
      CredentialsProvider p =
          Credentials.provider(
              new Endpoint(sim.imdsEndpoint(), "the simulator"), LoopbackGuard.of(true));

      assertThat(p.resolve().accessKeyId()).isEqualTo(System.getProperty("aws.accessKeyId"));
      assertThat(p.resolve().source()).isEqualTo("system properties aws.accessKeyId");
    }
  }
}
