package dev.drainguard.net;

import java.net.URI;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The HTTP proxy through which an https endpoint is reached, when the operator set one: the JVM's
 * {@code https.proxyHost} / {@code https.proxyPort} (excepting {@code http.nonProxyHosts}) first,
 * then the environment's {@code HTTPS_PROXY} (or {@code https_proxy}) excepting {@code NO_PROXY}
 * (or {@code no_proxy}), as the AWS SDK for Java read them. The proxy is asked to open a tunnel
 * ({@code CONNECT host:port}); TLS runs end to end through it.
 *
 * @param address the proxy, {@code http://host:port}
 * @param source which setting named it, for the log and {@code check}
 */
public record HttpsProxy(URI address, String source) {

  /** A proxy setting that cannot be used: a configuration error (exit 78), said in one line. */
  public static final class SettingException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    SettingException(String message) {
      super(message);
    }

    SettingException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * The proxy for {@code target}, or empty when none is set or the target is excepted.
   *
   * @throws SettingException when the setting cannot be used (not {@code http://host:port}, or with
   *     a user name: proxy authentication is not supported); its message says which setting and how
   *     to fix it
   */
  public static Optional<HttpsProxy> forTarget(
      URI target, Map<String, String> env, Function<String, String> properties) {
    if (!"https".equalsIgnoreCase(target.getScheme())) {
      return Optional.empty();
    }
    String host = target.getHost().toLowerCase(Locale.ROOT);
    String jvmHost = properties.apply("https.proxyHost");
    if (jvmHost != null && !jvmHost.isBlank()) {
      if (excepted(host, properties.apply("http.nonProxyHosts"), "\\|")) {
        return Optional.empty();
      }
      String port = Optional.ofNullable(properties.apply("https.proxyPort")).orElse("443");
      return Optional.of(
          parse(
              "http://" + jvmHost.strip() + ":" + port.strip(),
              "system properties https.proxyHost/https.proxyPort"));
    }
    for (String name : new String[] {"HTTPS_PROXY", "https_proxy"}) {
      String value = env.get(name);
      if (value != null && !value.isBlank()) {
        String noProxy = env.getOrDefault("NO_PROXY", env.get("no_proxy"));
        if (excepted(host, noProxy, ",")) {
          return Optional.empty();
        }
        String url = value.strip().contains("://") ? value.strip() : "http://" + value.strip();
        return Optional.of(parse(url, "env " + name));
      }
    }
    return Optional.empty();
  }

  private static HttpsProxy parse(String url, String source) {
    URI u;
    try {
      u = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw new SettingException(
          source + " is not a proxy URL (" + url + "): set it to http://host:port", e);
    }
    if (!"http".equalsIgnoreCase(u.getScheme()) || u.getHost() == null) {
      throw new SettingException(
          source
              + " must name an http:// proxy with a host, not "
              + url
              + ": set http://host:port");
    }
    if (u.getRawUserInfo() != null) {
      throw new SettingException(
          source
              + " carries a user name: proxy authentication is not supported; allow the instance"
              + " through the proxy without it, or reach Auto Scaling through a VPC endpoint");
    }
    int port = u.getPort() < 0 ? 80 : u.getPort();
    return new HttpsProxy(URI.create("http://" + u.getHost() + ":" + port), source);
  }

  /** Whether {@code host} is in a NO_PROXY-style list: exact names, domain suffixes, or "*". */
  static boolean excepted(String host, String list, String separator) {
    if (list == null || list.isBlank()) {
      return false;
    }
    for (String raw : list.split(separator)) {
      String e = raw.strip().toLowerCase(Locale.ROOT);
      if (e.isEmpty()) {
        continue;
      }
      if (e.equals("*")) {
        return true;
      }
      if (e.startsWith("*")) {
        e = e.substring(1);
      }
      if (e.startsWith(".")
          ? host.endsWith(e) || host.equals(e.substring(1))
          : host.equals(e) || host.endsWith("." + e)) {
        return true;
      }
    }
    return false;
  }
}
