package dev.drainguard.config;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parsers for the value syntaxes settings accept; each throws IllegalArgumentException. */
final class Values {

  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)?");
  private static final Pattern BYTES = Pattern.compile("(\\d+)\\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?");

  private Values() {}

  /**
   * {@code 250ms}, {@code 10s}, {@code 5m}, {@code 2h}, {@code 1d}, a bare number of seconds, or
   * ISO-8601.
   */
  static Duration duration(String raw) {
    String v = raw.strip().toLowerCase(Locale.ROOT);
    Matcher m = DURATION.matcher(v);
    if (m.matches()) {
      String unit = m.group(2) == null ? "s" : m.group(2);
      try {
        long n = Long.parseLong(m.group(1));
        return switch (unit) {
          case "ms" -> Duration.ofMillis(n);
          case "s" -> Duration.ofSeconds(n);
          case "m" -> Duration.ofMinutes(n);
          case "h" -> Duration.ofHours(n);
          default -> Duration.ofDays(n);
        };
      } catch (ArithmeticException | NumberFormatException e) {
        throw new IllegalArgumentException("too large");
      }
    }
    try {
      return Duration.parse(raw.strip().toUpperCase(Locale.ROOT));
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("not a duration");
    }
  }

  /** A byte count: {@code 4096}, {@code 64k}, {@code 10MiB}, {@code 1g} (binary multiples). */
  static long bytes(String raw) {
    Matcher m = BYTES.matcher(raw.strip().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException("not a byte count");
    }
    long n;
    try {
      n = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("too large");
    }
    String unit = m.group(2) == null ? "b" : m.group(2).substring(0, 1);
    int shift =
        switch (unit) {
          case "k" -> 10;
          case "m" -> 20;
          case "g" -> 30;
          default -> 0;
        };
    if (shift > 0 && n > (Long.MAX_VALUE >> shift)) {
      throw new IllegalArgumentException("too large");
    }
    return n << shift;
  }

  static boolean bool(String raw) {
    return switch (raw.strip().toLowerCase(Locale.ROOT)) {
      case "true", "yes", "on", "1" -> true;
      case "false", "no", "off", "0" -> false;
      default -> throw new IllegalArgumentException("not a boolean");
    };
  }

  /** An http(s) URI with a host. */
  static URI httpUri(String raw) {
    try {
      URI u = new URI(raw.strip());
      if (u.getScheme() == null
          || !(u.getScheme().equals("http") || u.getScheme().equals("https"))
          || u.getHost() == null) {
        throw new IllegalArgumentException("not an http(s) URL");
      }
      return u;
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("not an http(s) URL");
    }
  }

  /** A literal IP address; a host name is refused (no DNS lookup is made). */
  /** A TCP port, 1 to 65535. */
  static int port(String raw) {
    int port = Integer.parseInt(raw.strip());
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("out of range");
    }
    return port;
  }

  /** A user or group name as useradd and groupadd accept them. */
  static String name(String raw) {
    String v = raw.strip();
    if (!v.matches("[a-z_][a-z0-9_-]{0,31}\\$?")) {
      throw new IllegalArgumentException("not a name");
    }
    return v;
  }

  static InetAddress ipLiteral(String raw) {
    String v = raw.strip();
    boolean ipv4 = v.matches("\\d{1,3}(\\.\\d{1,3}){3}");
    boolean ipv6 = v.contains(":") && v.matches("[0-9a-fA-F:.]+");
    if (!ipv4 && !ipv6) {
      throw new IllegalArgumentException("not an IP literal");
    }
    try {
      return InetAddress.getByName(v);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an IP literal");
    }
  }

  static String format(Duration d) {
    if (d.isZero()) {
      return "0s";
    }
    if (d.toMillis() % 1000 != 0) {
      return d.toMillis() + "ms";
    }
    long s = d.getSeconds();
    if (s % 86400 == 0) {
      return s / 86400 + "d";
    }
    if (s % 3600 == 0) {
      return s / 3600 + "h";
    }
    if (s % 60 == 0) {
      return s / 60 + "m";
    }
    return s + "s";
  }

  /**
   * Splits a list at commas outside braces, so that a glob's alternatives in braces stay one item.
   * Items are stripped; empty ones are kept for the caller to refuse.
   */
  static List<String> splitList(String raw) {
    List<String> out = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '{') {
        depth++;
      } else if (c == '}' && depth > 0) {
        depth--;
      } else if (c == ',' && depth == 0) {
        out.add(raw.substring(start, i).strip());
        start = i + 1;
      }
    }
    out.add(raw.substring(start).strip());
    return out;
  }

  /** Where systemd's StateDirectory= is ($STATE_DIRECTORY; the first, when there are several). */
  static Optional<Path> systemdStateDirectory(Map<String, String> env) {
    String dirs = env.getOrDefault("STATE_DIRECTORY", "");
    String first = dirs.split(":", -1)[0].strip();
    return first.startsWith("/") ? Optional.of(Path.of(first).normalize()) : Optional.empty();
  }
}
