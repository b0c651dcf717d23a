package dev.drainguard.status;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.drainguard.drain.ControlResult;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the control protocol on a Unix domain socket. Access is the socket file's: mode 0660,
 * group {@value #GROUP} when that group exists, so only root and members of the group can ask for
 * status or hold and release the action. A bad request gets an error reply; nothing a client sends
 * can stop the server.
 */
public final class ControlServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ControlServer.class);

  /** The group whose members may use the socket. */
  public static final String GROUP = "drainguard";

  /** Clients served at once; more wait in the accept queue, none is turned away. */
  static final int MAX_CLIENTS = 64;

  /**
   * A connection that sends nothing for this long is closed, so forgotten clients cannot hold every
   * slot (a request is one line, sent at once).
   */
  static final java.time.Duration IDLE_LIMIT = java.time.Duration.ofSeconds(10);

  private final Path path;
  private final ControlHandler handler;
  private final ServerSocketChannel server;
  private final ExecutorService clients;
  private final Semaphore slots = new Semaphore(MAX_CLIENTS);
  private final Thread acceptor;
  private final java.util.concurrent.ScheduledExecutorService watchdog =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "drainguard-control-idle");
            t.setDaemon(true);
            return t;
          });
  private volatile boolean closed;

  private ControlServer(Path path, ControlHandler handler) throws IOException {
    this.path = path;
    this.handler = handler;
    prepare(path);
    server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(path));
    restrict(path);
    clients =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "drainguard-control-client");
              t.setDaemon(true);
              return t;
            });
    acceptor = new Thread(this::acceptLoop, "drainguard-control");
    acceptor.setDaemon(true);
    acceptor.start();
    log.info("control socket listening path={}", path);
  }

  /**
   * Binds {@code path} and serves {@code handler}.
   *
   * @throws IllegalStateException when another agent already serves that socket
   * @throws UncheckedIOException when the socket cannot be created
   */
  public static ControlServer start(Path path, ControlHandler handler) {
    try {
      return new ControlServer(path, handler);
    } catch (IOException e) {
      throw new UncheckedIOException("control socket " + path + " cannot be created: " + e, e);
    }
  }

  public Path path() {
    return path;
  }

  /** Creates the directory (0770) and removes a stale socket left by an agent that died. */
  private static void prepare(Path path) throws IOException {
    Path dir = path.toAbsolutePath().getParent();
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir);
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwx---"));
      setGroup(dir);
    }
    if (Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      java.nio.file.attribute.BasicFileAttributes a =
          Files.readAttributes(
              path,
              java.nio.file.attribute.BasicFileAttributes.class,
              java.nio.file.LinkOption.NOFOLLOW_LINKS);
      if (!a.isOther()) {
        throw new IllegalStateException(
            path + " exists and is not a socket: remove it or choose another --control-socket");
      }
      try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
        throw new IllegalStateException(
            "another drainguard agent is serving " + path + ": stop it first");
      } catch (IOException stale) {
        log.info("removing a stale control socket path={}", path);
        Files.delete(path);
      }
    }
  }

  private static void restrict(Path path) throws IOException {
    Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw----"));
    setGroup(path);
  }

  private static void setGroup(Path p) throws IOException {
    try {
      GroupPrincipal group =
          p.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(GROUP);
      Files.getFileAttributeView(p, PosixFileAttributeView.class).setGroup(group);
    } catch (UserPrincipalNotFoundException e) {
      log.debug("group {} does not exist; {} keeps its group", GROUP, p);
    }
  }

  private void acceptLoop() {
    while (!closed) {
      SocketChannel client;
      try {
        slots.acquire();
        client = server.accept();
      } catch (IOException | InterruptedException e) {
        slots.release();
        if (!closed) {
          log.warn("control socket accept failed path={} error={}", path, e.toString());
        }
        continue;
      }
      clients.execute(
          () -> {
            try {
              serve(client);
            } finally {
              slots.release();
            }
          });
    }
  }

  private void serve(SocketChannel client) {
    try (client;
        BufferedReader in =
            new BufferedReader(
                new InputStreamReader(Channels.newInputStream(client), StandardCharsets.UTF_8));
        OutputStream out = Channels.newOutputStream(client)) {
      String line;
      while ((line = readWithin(client, in)) != null) {
        ControlProtocol.Reply reply = answer(line);
        out.write(ControlProtocol.JSON.writeValueAsBytes(reply));
        out.write('\n');
        out.flush();
        if (line.startsWith("\u0000")) {
          break; // the rest of an over-long line is not a request
        }
      }
    } catch (IOException e) {
      log.debug("control client gone error={}", e.toString());
    }
  }

  /** Reads one line, closing the connection if none arrives within {@link #IDLE_LIMIT}. */
  private String readWithin(SocketChannel client, BufferedReader in) throws IOException {
    java.util.concurrent.ScheduledFuture<?> idle =
        watchdog.schedule(
            () -> {
              try {
                client.close();
              } catch (IOException e) {
                log.debug("closing an idle control client failed: {}", e.toString());
              }
            },
            IDLE_LIMIT.toMillis(),
            java.util.concurrent.TimeUnit.MILLISECONDS);
    try {
      return readLine(in);
    } finally {
      idle.cancel(false);
    }
  }

  /** A line of at most MAX_LINE characters; a longer one ends the conversation with an error. */
  private static String readLine(BufferedReader in) throws IOException {
    StringBuilder b = new StringBuilder();
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\n') {
        return b.toString();
      }
      if (b.length() >= ControlProtocol.MAX_LINE) {
        return "\u0000too-long";
      }
      b.append((char) c);
    }
    return b.length() == 0 ? null : b.toString();
  }

  ControlProtocol.Reply answer(String line) {
    if (line.startsWith("\u0000")) {
      return ControlProtocol.Reply.error(
          "request longer than " + ControlProtocol.MAX_LINE + " bytes");
    }
    ControlProtocol.Request req;
    try {
      req = ControlProtocol.JSON.readValue(line, ControlProtocol.Request.class);
    } catch (JsonProcessingException e) {
      return ControlProtocol.Reply.error(
          "malformed request: expected one JSON object per line, like"
              + " {\"v\":1,\"op\":\"status\"}");
    }
    if (req == null || req.v() == null || req.v() != ControlProtocol.VERSION) {
      return ControlProtocol.Reply.error(
          "unsupported protocol version "
              + (req == null ? null : req.v())
              + ": this agent speaks v"
              + ControlProtocol.VERSION);
    }
    ControlProtocol.Op op;
    try {
      op = ControlProtocol.Op.valueOf(String.valueOf(req.op()).toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return ControlProtocol.Reply.error(
          "unknown op '" + req.op() + "': expected status, hold or release");
    }
    try {
      return switch (op) {
        case STATUS -> reply(null, handler.status());
        case HOLD -> reply(handler.hold(req.reason()), handler.status());
        case RELEASE ->
            reply(
                handler.release(Boolean.TRUE.equals(req.force()), req.reason()), handler.status());
      };
    } catch (RuntimeException e) {
      log.warn("control request failed op={} error={}", op, e.toString());
      return ControlProtocol.Reply.error(op.name().toLowerCase(Locale.ROOT) + " failed: " + e);
    }
  }

  private static ControlProtocol.Reply reply(ControlResult result, StatusView status) {
    if (result == null) {
      return new ControlProtocol.Reply(ControlProtocol.VERSION, true, null, null, status);
    }
    return new ControlProtocol.Reply(
        ControlProtocol.VERSION,
        result.accepted(),
        result.accepted() ? null : result.message(),
        result.accepted() ? result.message() : null,
        status);
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
      Files.deleteIfExists(path);
    } catch (IOException e) {
      log.warn("control socket close failed path={} error={}", path, e.toString());
    }
  }
}
