package dev.drainguard.testing;

import static org.awaitility.Awaitility.await;

import dev.drainguard.aws.AwsCredentials;
import dev.drainguard.aws.CredentialsProvider;
import dev.drainguard.net.LoopbackGuard;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;

/**
 * {@code moto_server} on 127.0.0.1, an implementation of the Auto Scaling Query API that this
 * project did not write, with a setup client to create groups and hooks in it. A test that needs it
 * is skipped, with a message in the build log, only when {@code moto_server} is not installed.
 */
public final class MotoServer implements AutoCloseable {

  /** moto_server starts in about a second here; allow for a slow CI machine. */
  private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(20);

  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(5);

  /** The setup client's credentials (the SDK's type). */
  private static final StaticCredentialsProvider SETUP_CREDENTIALS =
      StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test"));

  /** The same keys for the agent's own client. */
  public static final CredentialsProvider CREDENTIALS =
      CredentialsProvider.fixed(AwsCredentials.of("test", "test", "moto's test keys"));

  private static final String INSTALL_HINT =
      "moto not installed: %s skipped. Install it with"
          + " `pip install 'moto[server]'` so that `moto_server` is on the PATH.";

  private final Process process;
  private final URI endpoint;
  private final AutoScalingClient setup;

  private MotoServer(Process process, URI endpoint) {
    this.process = process;
    this.endpoint = endpoint;
    this.setup =
        AutoScalingClient.builder()
            .region(Region.US_EAST_1)
            .endpointOverride(endpoint)
            .credentialsProvider(SETUP_CREDENTIALS)
            .httpClient(
                new GuardedHttpClient(
                    UrlConnectionHttpClient.create(), LoopbackGuard.of(true), "moto setup"))
            .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
            .build();
  }

  /**
   * Starts moto_server on a free loopback port and waits until it accepts connections; aborts the
   * calling test (skipped, said in the log) when moto is not installed.
   *
   * @param user the test class, named in the skip message
   * @param log where moto's output goes
   */
  public static MotoServer start(Class<?> user, Path log) throws IOException {
    requireInstalled(user);
    int port = freeLoopbackPort();
    URI endpoint = URI.create("http://127.0.0.1:" + port);
    Files.createDirectories(log.toAbsolutePath().getParent());
    Process p =
        new ProcessBuilder("moto_server", "-H", "127.0.0.1", "-p", Integer.toString(port))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    MotoServer moto = new MotoServer(p, endpoint);
    try {
      await("moto_server answering on " + endpoint)
          .atMost(STARTUP_TIMEOUT)
          .pollInterval(Duration.ofMillis(100))
          .until(
              () -> {
                if (!p.isAlive()) {
                  throw new IllegalStateException(
                      "moto_server exited with " + p.exitValue() + ": " + Files.readString(log));
                }
                return accepts(port);
              });
    } catch (RuntimeException e) {
      moto.close();
      throw e;
    }
    return moto;
  }

  public URI endpoint() {
    return endpoint;
  }

  /** An SDK client on moto (us-east-1, test credentials, no retries) to set up the test's world. */
  public AutoScalingClient setup() {
    return setup;
  }

  @Override
  public void close() {
    setup.close();
    process.descendants().forEach(ProcessHandle::destroy);
    process.destroy();
    try {
      if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly().waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void requireInstalled(Class<?> user) {
    String why;
    try {
      Process probe =
          new ProcessBuilder("moto_server", "--help")
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (!probe.waitFor(STARTUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        probe.destroyForcibly();
        why = "`moto_server --help` did not finish within " + STARTUP_TIMEOUT;
      } else if (probe.exitValue() != 0) {
        why = "`moto_server --help` exited with " + probe.exitValue();
      } else {
        return;
      }
    } catch (IOException e) {
      why = "cannot run moto_server: " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      why = "interrupted";
    }
    String message = String.format(INSTALL_HINT, user.getSimpleName()) + " (" + why + ")";
    System.err.println("[WARNING] " + message);
    Assumptions.abort(message);
  }

  private static int freeLoopbackPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      return s.getLocalPort();
    }
  }

  private static boolean accepts(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
