package dev.drainguard.net;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Refuses any endpoint that is not on the loopback interface while loopback-only mode is on.
 *
 * <p>Tests, the demo and CI must never reach the real instance metadata service (169.254.169.254)
 * or an AWS endpoint, not even by a fallback to an SDK default. Every HTTP request the agent makes
 * passes through {@link BoundedHttp}, which asks this guard first. The mode is on when the caller
 * asks for it (the demo, {@code --loopback-only}) or when the system property {@value #PROPERTY} is
 * {@code true}, which the build sets for every test JVM; the property cannot be overridden to off
 * by code.
 */
public final class LoopbackGuard {

  /** System property that forces loopback-only mode for the whole JVM. */
  public static final String PROPERTY = "drainguard.loopbackOnly";

  private static final LoopbackGuard OFF = new LoopbackGuard(false);
  private static final LoopbackGuard ON = new LoopbackGuard(true);

  private static final Pattern IPV4 =
      Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");

  private final boolean enabled;

  private LoopbackGuard(boolean enabled) {
    this.enabled = enabled;
  }

  /** The guard in force: on when {@code requested} or when the JVM-wide property says so. */
  public static LoopbackGuard of(boolean requested) {
    return requested || Boolean.getBoolean(PROPERTY) ? ON : OFF;
  }

  public boolean enabled() {
    return enabled;
  }

  /**
   * Throws when loopback-only mode is on and {@code endpoint} is not a loopback address.
   *
   * @param what the caller's name for the endpoint, used in the message (e.g. "IMDS")
   */
  public void check(String what, URI endpoint) {
    if (!enabled) {
      return;
    }
    if (endpoint == null || endpoint.getHost() == null || !isLoopback(endpoint.getHost())) {
      throw new EndpointRefusedException(
          String.format(
              "loopback-only mode refused the %s endpoint %s: tests, the demo and CI may only"
                  + " reach 127.0.0.1; set it explicitly to the simulator or moto",
              what, endpoint));
    }
  }

  /**
   * As {@link #check(String, URI)}, naming where the endpoint came from: the refusal says which
   * endpoint would have been used and which setting chose it.
   */
  public void check(String what, Endpoint endpoint) {
    if (!enabled) {
      return;
    }
    URI uri = endpoint.uri();
    if (uri.getHost() == null || !isLoopback(uri.getHost())) {
      throw new EndpointRefusedException(
          String.format(
              "loopback-only mode refused the %s endpoint %s: tests, the demo and CI may only"
                  + " reach 127.0.0.1; set it explicitly to the simulator or moto",
              what, endpoint));
    }
  }

  static boolean isLoopback(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    // Only literal addresses are accepted: resolving a name could itself leave the machine.
    // InetAddress resolves whatever it cannot parse as a literal (e.g. "cafe.babe", "1.2.3.4.5"),
    // so IPv4 is parsed here, and only IPv6 literals (a ':', starting with a hex digit or ':',
    // which InetAddress never resolves) are left to it.
    Matcher v4 = IPV4.matcher(h);
    if (v4.matches()) {
      for (int i = 1; i <= 4; i++) {
        if (Integer.parseInt(v4.group(i)) > 255) {
          return false;
        }
      }
      return Integer.parseInt(v4.group(1)) == 127;
    }
    if (!h.contains(":")
        || h.startsWith(".")
        || !h.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == '.' || c == ':')) {
      return false;
    }
    try {
      return InetAddress.getByName(h).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
