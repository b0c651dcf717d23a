package dev.drainguard.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class LoopbackGuardTest {

  private final LoopbackGuard guard = LoopbackGuard.of(true);

  @ParameterizedTest
  @ValueSource(
      strings = {
        "http://127.0.0.1:8080/",
        "http://127.8.9.10/latest/api/token",
        "http://[::1]:9000/",
        "http://[0:0:0:0:0:0:0:1]/",
      })
  void check_loopbackEndpoint_accepted(String endpoint) {
    assertThatCode(() -> guard.check("Auto Scaling", URI.create(endpoint)))
        .doesNotThrowAnyException();
  }

  @ParameterizedTest
  @NullSource
  @ValueSource(
      strings = {
        "http://169.254.169.254",
        "http://169.254.169.254/latest/api/token",
        "http://[fd00:ec2::254]/",
        "https://autoscaling.us-east-1.amazonaws.com/",
        "http://example.internal:8080/",
        "http://localhost.example.com/",
        // A name, even this one, is resolved by the system (/etc/hosts may say anything).
        "http://localhost:1234",
        "http://LOCALHOST/",
        "http://127.0.0.1.nip.io/",
        // Names made only of hex digits and dots look like literals but are not: refused, and
        // (see LoopbackGuard.isLoopback) decided without asking DNS.
        "http://cafe.babe/",
        "http://1.2.3.4.5/",
        "http://127.0.0.256/",
        "http://10.0.0.1",
        "http://8.8.8.8:53/",
        "http://0.0.0.0:8080/",
        "http://[::]/",
        "http:///no-host",
        "mailto:ops@example.com",
      })
  void check_nonLoopbackEndpoint_refusedNamingTheEndpoint(String endpoint) {
    URI uri = endpoint == null ? null : URI.create(endpoint);

    assertThatThrownBy(() -> guard.check("Auto Scaling", uri))
        .isInstanceOf(EndpointRefusedException.class)
        .hasMessageContaining("Auto Scaling endpoint " + uri + ":")
        .hasMessageContaining("loopback-only");
  }

  // The build sets drainguard.loopbackOnly=true for every test JVM (agent/pom.xml), so even code
  // that asks for the guard to be off gets it on: this is what keeps any test from reaching AWS.
  @Test
  void of_offRequestedInTestJvm_stillEnabledByTheSystemProperty() {
    assertThat(System.getProperty(LoopbackGuard.PROPERTY)).isEqualTo("true");

    LoopbackGuard requestedOff = LoopbackGuard.of(false);

    assertThat(requestedOff.enabled()).isTrue();
    assertThatThrownBy(
            () -> requestedOff.check("IMDS", URI.create("http://169.254.169.254/latest/api/token")))
        .isInstanceOf(EndpointRefusedException.class)
        .hasMessageContaining("169.254.169.254");
  }

  @Test
  void of_onRequested_enabled() {
    assertThat(LoopbackGuard.of(true).enabled()).isTrue();
  }
}
