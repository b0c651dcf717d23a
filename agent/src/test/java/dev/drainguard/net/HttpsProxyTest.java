package dev.drainguard.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which proxy an https endpoint is reached through, from the settings the SDK read. */
class HttpsProxyTest {

  private static final URI AUTO_SCALING = URI.create("https://autoscaling.eu-west-1.amazonaws.com");

  @Test
  void nothingSet_direct() {
    assertThat(HttpsProxy.forTarget(AUTO_SCALING, Map.of(), k -> null)).isEmpty();
  }

  @Test
  void envHttpsProxy_withOrWithoutScheme() {
    assertThat(
            HttpsProxy.forTarget(AUTO_SCALING, Map.of("HTTPS_PROXY", "proxy.corp:3128"), k -> null))
        .contains(new HttpsProxy(URI.create("http://proxy.corp:3128"), "env HTTPS_PROXY"));
    assertThat(
            HttpsProxy.forTarget(
                AUTO_SCALING, Map.of("https_proxy", "http://proxy.corp"), k -> null))
        .contains(new HttpsProxy(URI.create("http://proxy.corp:80"), "env https_proxy"));
  }

  @Test
  void jvmProperties_beforeTheEnvironment() {
    Map<String, String> props = Map.of("https.proxyHost", "jvm.proxy", "https.proxyPort", "8080");
    assertThat(HttpsProxy.forTarget(AUTO_SCALING, Map.of("HTTPS_PROXY", "env.proxy:1"), props::get))
        .hasValueSatisfying(p -> assertThat(p.address()).hasToString("http://jvm.proxy:8080"));
  }

  @Test
  void noProxy_bySuffixExactOrStar_direct() {
    for (String list :
        new String[] {
          ".amazonaws.com", "amazonaws.com", "x, *", "autoscaling.eu-west-1.amazonaws.com"
        }) {
      assertThat(
              HttpsProxy.forTarget(
                  AUTO_SCALING, Map.of("HTTPS_PROXY", "p:1", "NO_PROXY", list), k -> null))
          .as(list)
          .isEmpty();
    }
    assertThat(
            HttpsProxy.forTarget(
                AUTO_SCALING,
                Map.of("HTTPS_PROXY", "p:1", "NO_PROXY", "example.com,.aws"),
                k -> null))
        .isPresent();
  }

  @Test
  void plainHttpTargets_likeImds_neverProxied() {
    assertThat(
            HttpsProxy.forTarget(
                URI.create("http://169.254.169.254"), Map.of("HTTPS_PROXY", "p:1"), k -> null))
        .isEmpty();
  }

  @Test
  void unusableSettings_refusedInOneLineSayingHowToFix() {
    assertThatThrownBy(
            () ->
                HttpsProxy.forTarget(
                    AUTO_SCALING, Map.of("HTTPS_PROXY", "http://user:pw@proxy:3128"), k -> null))
        .isInstanceOf(HttpsProxy.SettingException.class)
        .hasMessageContaining("env HTTPS_PROXY carries a user name")
        .hasMessageNotContaining("pw");
    assertThatThrownBy(
            () ->
                HttpsProxy.forTarget(
                    AUTO_SCALING, Map.of("HTTPS_PROXY", "socks5://proxy:1080"), k -> null))
        .hasMessageContaining("must name an http:// proxy");
  }
}
