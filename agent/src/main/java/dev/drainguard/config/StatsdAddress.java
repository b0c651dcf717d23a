package dev.drainguard.config;

import java.net.InetSocketAddress;
import java.util.Optional;

/** The {@code statsd-address} setting: where fleet metrics go, and when that is refused. */
final class StatsdAddress {

  static final String ACCEPTED =
      "a literal IP address and port like 127.0.0.1:8125 or [::1]:8125, or a port alone"
          + " (1 to 65535)";

  private StatsdAddress() {}

  /**
   * A literal address and port: {@code 127.0.0.1:8125}, {@code [::1]:8125}, or a port alone, which
   * means 127.0.0.1 (loopback unless an address is given explicitly). No DNS lookup is made.
   */
  static InetSocketAddress parse(String raw) {
    String v = raw.strip();
    String host;
    String port;
    if (v.matches("\\d+")) {
      host = "127.0.0.1";
      port = v;
    } else if (v.startsWith("[")) {
      int close = v.indexOf("]:");
      if (close < 0) {
        throw new IllegalArgumentException("not [IPv6]:port");
      }
      host = v.substring(1, close);
      port = v.substring(close + 2);
      if (!host.contains(":")) {
        throw new IllegalArgumentException("not an IPv6 literal in brackets");
      }
    } else {
      int colon = v.lastIndexOf(':');
      if (colon < 0 || v.indexOf(':') != colon) {
        throw new IllegalArgumentException("not address:port");
      }
      host = v.substring(0, colon);
      port = v.substring(colon + 1);
      if (!host.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
        throw new IllegalArgumentException("not an IPv4 literal");
      }
      for (String octet : host.split("\\.")) {
        if (Integer.parseInt(octet) > 255) {
          // InetAddress would look such a "name" up in DNS
          throw new IllegalArgumentException("not an IPv4 literal");
        }
      }
    }
    if (!port.matches("\\d{1,5}")) {
      throw new IllegalArgumentException("not a port");
    }
    int p = Integer.parseInt(port);
    if (p < 1 || p > 65535) {
      throw new IllegalArgumentException("port out of range");
    }
    return new InetSocketAddress(Values.ipLiteral(host), p);
  }

  /** {@code 127.0.0.1:8125} or {@code [::1]:8125}. */
  static String format(InetSocketAddress a) {
    String host = a.getAddress().getHostAddress();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
  }

  /**
   * {@code address} as given, unless loopback-only mode is on and it is not loopback: in that mode
   * (tests, the demo, CI) nothing may leave the machine.
   */
  static Optional<InetSocketAddress> loopbackUnderLoopbackOnly(
      Optional<InetSocketAddress> address, boolean loopbackOnly) {
    if (loopbackOnly && address.isPresent() && !address.get().getAddress().isLoopbackAddress()) {
      throw new ConfigException(
          String.format(
              "%s %s is not a loopback address: refused under %s, where nothing may leave the"
                  + " machine",
              Setting.STATSD_ADDRESS.where(), format(address.get()), Setting.LOOPBACK_ONLY.flag()));
    }
    return address;
  }
}
