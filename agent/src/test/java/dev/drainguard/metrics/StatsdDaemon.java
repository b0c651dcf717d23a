package dev.drainguard.metrics;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The statsd daemon (Etsy's, the {@code statsd} package of the npm registry) installed with {@code
 * npm install} into the build directory and run with node on 127.0.0.1: its UDP port takes the
 * metrics, its management port answers {@code gauges} and {@code counters} with what it parsed, and
 * {@code dumpMessages} writes every line it received to its log. The install is kept under {@code
 * cacheDir}, so only the first run (or the first after {@code mvn clean}) fetches anything.
 */
final class StatsdDaemon implements AutoCloseable {

  /** The version pinned: 0.9.0 reads DogStatsD tags ({@code |#k:v}) into {@code name;k=v} keys. */
  static final String PACKAGE = "statsd@0.9.0";

  /** Bound for npm install: a few small packages from the registry. */
  static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(4);

  /** Bound for one question to the management port. */
  static final Duration ASK_TIMEOUT = Duration.ofSeconds(5);

  private static final Pattern ENTRY = Pattern.compile("'([^']+)': (-?[0-9.e+]+|NaN)");

  /** statsd cannot be had here; the message says why. */
  static final class UnavailableException extends Exception {
    UnavailableException(String reason) {
      super(reason);
    }
  }

  private static Path installed;
  private static UnavailableException failed;

  private final Process process;
  private final Path log;
  private final int udpPort;
  private final int mgmtPort;

  private StatsdDaemon(Process process, Path log, int udpPort, int mgmtPort) {
    this.process = process;
    this.log = log;
    this.udpPort = udpPort;
    this.mgmtPort = mgmtPort;
  }

  /** The installed daemon's stats.js, installing it under {@code cacheDir} on first use. */
  static synchronized Path obtain(Path cacheDir) throws UnavailableException {
    if (installed == null && failed == null) {
      try {
        installed = install(cacheDir.toAbsolutePath());
      } catch (UnavailableException e) {
        failed = e; // one attempt per test run
      }
    }
    if (failed != null) {
      throw failed;
    }
    return installed;
  }

  private static Path install(Path cacheDir) throws UnavailableException {
    Path stats = cacheDir.resolve("node_modules/statsd/stats.js");
    if (Files.isRegularFile(stats)) {
      return stats;
    }
    try {
      Files.createDirectories(cacheDir);
      Path out = cacheDir.resolve("npm-install.log");
      // optional dependencies are syslog and Windows service helpers the daemon does not need here
      Process p =
          new ProcessBuilder(
                  "npm",
                  "install",
                  "--prefix",
                  cacheDir.toString(),
                  "--omit=optional",
                  "--ignore-scripts",
                  "--no-audit",
                  "--no-fund",
                  PACKAGE)
              .directory(cacheDir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(out.toFile())
              .start();
      if (!p.waitFor(INSTALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new UnavailableException("npm install " + PACKAGE + " took over " + INSTALL_TIMEOUT);
      }
      if (p.exitValue() != 0 || !Files.isRegularFile(stats)) {
        throw new UnavailableException(
            "npm install "
                + PACKAGE
                + " failed (exit "
                + p.exitValue()
                + "): "
                + Files.readString(out).strip());
      }
      return stats;
    } catch (IOException e) {
      throw new UnavailableException("npm cannot run: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UnavailableException("npm install interrupted");
    }
  }

  /** Starts the daemon on free loopback ports with its files under {@code dir}. */
  static StatsdDaemon start(Path stats, Path dir) throws UnavailableException {
    int udp = freeUdpPort();
    int mgmt = freeTcpPort();
    Path config = dir.resolve("statsd-config.js");
    Path log = dir.resolve("statsd.log");
    try {
      // flushInterval long: counters and gauges stay as received for the management port
      Files.writeString(
          config,
          String.format(
              "{ address: \"127.0.0.1\", port: %d, mgmt_address: \"127.0.0.1\", mgmt_port: %d,"
                  + " backends: [], dumpMessages: true, flushInterval: 3600000 }%n",
              udp, mgmt));
      Process p =
          new ProcessBuilder("node", stats.toString(), config.toString())
              .directory(dir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      return new StatsdDaemon(p, log, udp, mgmt);
    } catch (IOException e) {
      throw new UnavailableException("node cannot run: " + e.getMessage());
    }
  }

  InetSocketAddress udpAddress() {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), udpPort);
  }

  boolean alive() {
    return process.isAlive();
  }

  /** Whether the management port answers {@code health} with {@code up}. */
  boolean up() {
    try {
      return ask("health").contains("health: up");
    } catch (IOException e) {
      return false;
    }
  }

  /** The gauges as the daemon parsed them: key ({@code name;tag=value...}) to value. */
  Map<String, Double> gauges() throws IOException {
    return entries(ask("gauges"));
  }

  Map<String, Double> counters() throws IOException {
    return entries(ask("counters"));
  }

  /** Every line the daemon logged, received metrics included ({@code DEBUG: <line>}). */
  String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Map<String, Double> entries(String answer) {
    Map<String, Double> out = new LinkedHashMap<>();
    Matcher m = ENTRY.matcher(answer);
    while (m.find()) {
      out.put(m.group(1), Double.parseDouble(m.group(2)));
    }
    return out;
  }

  private String ask(String command) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(
          new InetSocketAddress(InetAddress.getLoopbackAddress(), mgmtPort),
          (int) ASK_TIMEOUT.toMillis());
      s.setSoTimeout((int) ASK_TIMEOUT.toMillis());
      OutputStream out = s.getOutputStream();
      out.write((command + "\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      StringBuilder answer = new StringBuilder();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      String line;
      while ((line = in.readLine()) != null) {
        if (line.equals("END")) {
          break;
        }
        answer.append(line).append('\n');
        if (command.equals("health")) {
          break;
        }
      }
      return answer.toString();
    }
  }

  private static int freeUdpPort() throws UnavailableException {
    try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UnavailableException("no free UDP port on loopback: " + e);
    }
  }

  private static int freeTcpPort() throws UnavailableException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UnavailableException("no free TCP port on loopback: " + e);
    }
  }

  /** Stops the daemon this object started (its process only). */
  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
