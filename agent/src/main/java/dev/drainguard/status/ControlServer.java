package dev.drainguard.status;

import dev.drainguard.operator.Caller;
import dev.drainguard.operator.LogBudget;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the control protocol on a Unix domain socket. Access is the socket file's: mode 0660,
 * group {@value #GROUP} (or the configured control group) when that group exists, in a directory
 * the group may not write, so only root and members of the group can ask for status or hold and
 * release the action, and none of them can remove or replace the socket. Every connection is
 * attributed to the uid the kernel reports for it ({@code SO_PEERCRED}); connections are limited
 * per uid, with slots kept for root ({@link Admission}); and a client has seconds to send its
 * request and take its reply ({@link ControlSession}). A bad request gets an error reply; nothing a
 * client sends can stop the server.
 */
public final class ControlServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ControlServer.class);

  /** The group whose members may use the socket, unless configured otherwise. */
  public static final String GROUP = "drainguard";

  /** Refused connections logged in a burst, then one per {@link #REFUSED_LOG_REFILL}. */
  static final int REFUSED_LOG_BURST = 5;

  static final Duration REFUSED_LOG_REFILL = Duration.ofSeconds(10);

  private final Path path;
  private final ServerSocketChannel server;
  private final ControlRequests requests;
  private final Admission admission = new Admission();
  private final LogBudget refusedLog = new LogBudget(REFUSED_LOG_BURST, REFUSED_LOG_REFILL);
  private final Clock clock;
  private final ExecutorService clients;
  private final ScheduledExecutorService watchdog;
  private final Thread acceptor;
  private volatile boolean closed;

  private ControlServer(Path path, String group, ControlHandler handler, Clock clock)
      throws IOException {
    this.path = path;
    this.clock = clock;
    this.requests = new ControlRequests(handler);
    SocketFiles.prepare(path, group);
    server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      server.bind(UnixDomainSocketAddress.of(path));
      SocketFiles.restrict(path, group);
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
    // bounded by Admission: at most SHARED + ROOT threads serve at once
    clients = Executors.newCachedThreadPool(daemon("drainguard-control-client"));
    watchdog = Executors.newSingleThreadScheduledExecutor(daemon("drainguard-control-deadline"));
    acceptor = daemon("drainguard-control").newThread(this::acceptLoop);
    acceptor.start();
    log.info("control socket listening path={}", path);
  }

  /** As {@link #start(Path, String, ControlHandler, Clock)} with group {@value #GROUP}. */
  public static ControlServer start(Path path, ControlHandler handler) {
    return start(path, GROUP, handler, Clock.systemUTC());
  }

  /**
   * Binds {@code path} and serves {@code handler}.
   *
   * @param group the group given the socket: its members may use it
   * @param clock times the rationing of log lines about refused connections
   * @throws IllegalStateException when another agent already serves that socket
   * @throws UncheckedIOException when the socket cannot be created
   */
  public static ControlServer start(Path path, String group, ControlHandler handler, Clock clock) {
    try {
      return new ControlServer(path, group, handler, clock);
    } catch (IOException e) {
      throw new UncheckedIOException("control socket " + path + " cannot be created: " + e, e);
    }
  }

  public Path path() {
    return path;
  }

  /** Connections being served now (tests). */
  int open() {
    return admission.open();
  }

  private void acceptLoop() {
    while (!closed) {
      SocketChannel client;
      try {
        client = server.accept();
      } catch (IOException e) {
        if (!closed) {
          log.warn("control socket accept failed path={} error={}", path, e.toString());
        }
        continue;
      }
      Caller caller = peer(client);
      Optional<String> refused = admission.admit(caller);
      if (refused.isPresent()) {
        refuse(client, caller, refused.get());
        continue;
      }
      try {
        clients.execute(
            () -> {
              try {
                new ControlSession(client, caller, requests, watchdog).serve();
              } finally {
                admission.release(caller);
              }
            });
      } catch (RuntimeException e) {
        admission.release(caller);
        closeQuietly(client);
      }
    }
  }

  /** Who is on the other end, as the kernel says; UNKNOWN where it cannot say. */
  static Caller peer(SocketChannel client) {
    try {
      return Peers.of(client);
    } catch (IOException e) {
      log.debug("no peer credentials for a control client: {}", e.toString());
      return Caller.UNKNOWN;
    }
  }

  /**
   * Answers a refused connection with one error line, without blocking (a fresh socket's buffer
   * takes a short line), and closes it: the acceptor never waits for a client.
   */
  private void refuse(SocketChannel client, Caller caller, String why) {
    long dropped = refusedLog.take(clock.instant());
    if (dropped >= 0) {
      log.warn(
          "control connection refused uid={} user={} reason=\"{}\"{}",
          caller.uid(),
          caller.user(),
          why,
          dropped > 0 ? " (" + dropped + " more refused since the last such line)" : "");
    }
    try (client) {
      client.configureBlocking(false);
      byte[] line =
          ControlJson.write(ControlProtocol.Reply.error(why)).getBytes(StandardCharsets.UTF_8);
      ByteBuffer b = ByteBuffer.allocate(line.length + 1).put(line).put((byte) '\n').flip();
      client.write(b);
    } catch (IOException e) {
      log.debug("refused control client gone: {}", e.toString());
    }
  }

  private static void closeQuietly(SocketChannel ch) {
    try {
      ch.close();
    } catch (IOException ignored) {
      // nothing more to release
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      server.close();
      acceptor.interrupt();
      watchdog.shutdownNow();
      clients.shutdownNow();
      java.nio.file.Files.deleteIfExists(path);
    } catch (IOException e) {
      log.warn("control socket close failed path={} error={}", path, e.toString());
    }
  }
}
