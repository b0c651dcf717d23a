package dev.drainguard.status;

import dev.drainguard.net.Sleeper;
import dev.drainguard.operator.Caller;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Asks a running agent over its control socket; one request, one reply. Before it sends anything it
 * checks who serves the socket ({@link SocketTrust}): an answer from anyone but the agent is never
 * believed.
 */
public final class ControlClient {

  /**
   * How long to wait for a reply: a hold or release may wait for a tick that is retrying an API
   * call (a few seconds); anything longer means the agent is stuck.
   */
  public static final Duration REPLY_TIMEOUT = Duration.ofSeconds(30);

  /** The agent could not be reached, or did not answer. */
  public static class UnreachableException extends Exception {
    UnreachableException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** The socket is there, but this user may not use it (not root, not in the group). */
  public static final class NotPermittedException extends UnreachableException {
    NotPermittedException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * Something answers on the socket, but not the agent (or it cannot be told): nothing was sent.
   */
  public static final class UntrustedException extends UnreachableException {
    UntrustedException(String message) {
      super(message, null);
    }
  }

  /** The first pause before asking again after a "busy" answer; it grows to {@link #BUSY_MAX}. */
  static final Duration BUSY_FIRST = Duration.ofMillis(200);

  static final Duration BUSY_MAX = Duration.ofSeconds(1);

  private final Path socket;
  private final Duration timeout;
  private final Sleeper sleeper;

  /** A client that reports a "busy" answer as it is. */
  public ControlClient(Path socket, Duration timeout) {
    this(socket, timeout, null);
  }

  /**
   * A client that, when the agent answers "busy" (every connection slot it allows this user is
   * taken), asks again after a growing pause with jitter, until {@code timeout} has passed.
   */
  public ControlClient(Path socket, Duration timeout, Sleeper sleeper) {
    this.socket = socket;
    this.timeout = timeout;
    this.sleeper = sleeper;
  }

  public ControlProtocol.Reply send(ControlProtocol.Request request) throws UnreachableException {
    long giveUp = System.nanoTime() + timeout.toNanos();
    Duration pause = BUSY_FIRST;
    while (true) {
      ControlProtocol.Reply reply = sendOnce(request);
      boolean busy = !reply.ok() && reply.error() != null && reply.error().startsWith("busy:");
      if (!busy || sleeper == null || System.nanoTime() + pause.toNanos() > giveUp) {
        return reply;
      }
      long jittered = pause.toMillis() / 2 + ThreadLocalRandom.current().nextLong(pause.toMillis());
      sleeper.sleep(Duration.ofMillis(jittered));
      Duration next = pause.multipliedBy(3).dividedBy(2);
      pause = next.compareTo(BUSY_MAX) > 0 ? BUSY_MAX : next;
    }
  }

  private ControlProtocol.Reply sendOnce(ControlProtocol.Request request)
      throws UnreachableException {
    SocketChannel ch = connect();
    try {
      verify(ch);
    } catch (UnreachableException e) {
      closeQuietly(ch);
      throw e;
    }
    CompletableFuture<String> exchange =
        CompletableFuture.supplyAsync(
            () -> {
              IOException writeFailed = null;
              try {
                OutputStream out = Channels.newOutputStream(ch);
                out.write(ControlJson.write(request).getBytes(StandardCharsets.UTF_8));
                out.write('\n');
                out.flush();
              } catch (IOException e) {
                // the agent may have answered and closed before reading (a "busy" refusal)
                writeFailed = e;
              }
              try {
                String line =
                    new BufferedReader(
                            new InputStreamReader(
                                Channels.newInputStream(ch), StandardCharsets.UTF_8))
                        .readLine();
                if (line == null && writeFailed != null) {
                  throw writeFailed;
                }
                return line;
              } catch (IOException e) {
                throw new UncheckedIOException(writeFailed != null ? writeFailed : e);
              }
            });
    try (ch) {
      String line = exchange.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (line == null) {
        throw new UnreachableException("the agent at " + socket + " closed without a reply", null);
      }
      return ControlJson.read(line, ControlProtocol.Reply.class);
    } catch (TimeoutException e) {
      throw new UnreachableException(
          "the agent at " + socket + " did not answer within " + timeout, e);
    } catch (ExecutionException e) {
      throw new UnreachableException(
          "the agent at " + socket + " broke the connection (" + reason(e.getCause()) + ")", e);
    } catch (IOException e) {
      throw new UnreachableException(
          "the agent at " + socket + " sent an unreadable reply (" + reason(e) + ")", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UnreachableException("interrupted", e);
    }
  }

  private SocketChannel connect() throws UnreachableException {
    SocketChannel ch;
    try {
      ch = SocketChannel.open(StandardProtocolFamily.UNIX);
    } catch (IOException e) {
      throw new UnreachableException("cannot open a Unix socket: " + reason(e), e);
    }
    try {
      // A full accept queue can block connect: bound it by the same timeout as the reply.
      CompletableFuture.runAsync(
              () -> {
                try {
                  ch.connect(UnixDomainSocketAddress.of(socket));
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              })
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return ch;
    } catch (ExecutionException | TimeoutException | InterruptedException e) {
      closeQuietly(ch);
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      Throwable cause = e instanceof ExecutionException ? e.getCause().getCause() : e;
      if (!(e instanceof TimeoutException) && notPermitted(cause)) {
        throw new NotPermittedException(
            "permission denied on "
                + socket
                + ": only root and members of the agent's group ("
                + ControlServer.GROUP
                + " unless configured otherwise) may use it; an administrator grants it with"
                + " 'usermod -aG "
                + ControlServer.GROUP
                + " USER' (then log in again)",
            e);
      }
      throw new UnreachableException(
          "the agent is not reachable at "
              + socket
              + " ("
              + (e instanceof TimeoutException
                  ? "no connection within " + timeout
                  : reason(cause == null ? e : cause))
              + ")",
          e);
    }
  }

  /**
   * EACCES on the socket or on a directory above it. Judged from the files as well as from the
   * message, which the platform may word (or translate) otherwise.
   */
  private boolean notPermitted(Throwable cause) {
    if (cause != null && String.valueOf(cause.getMessage()).contains("Permission denied")) {
      return true;
    }
    Path dir = socket.toAbsolutePath().getParent();
    if (dir != null && Files.isDirectory(dir) && !Files.isExecutable(dir)) {
      return true;
    }
    return Files.exists(socket, LinkOption.NOFOLLOW_LINKS) && !Files.isWritable(socket);
  }

  private void verify(SocketChannel ch) throws UntrustedException {
    Optional<String> why;
    try {
      why = SocketTrust.check(socket, peer(ch));
    } catch (IOException e) {
      why = Optional.of("its directory cannot be examined (" + reason(e) + ")");
    }
    if (why.isPresent()) {
      throw new UntrustedException(
          "not asking " + socket + ": " + why.get() + "; nothing was sent");
    }
  }

  /** The peer as the kernel says, UNKNOWN where it cannot say (as the server reads it too). */
  private static Caller peer(SocketChannel ch) {
    try {
      return Peers.of(ch);
    } catch (IOException e) {
      return Caller.UNKNOWN;
    }
  }

  private static void closeQuietly(SocketChannel ch) {
    try {
      ch.close();
    } catch (IOException ignored) {
      // nothing more to release
    }
  }

  private static String reason(Throwable e) {
    String m = e.getMessage();
    return m == null ? e.getClass().getSimpleName() : m;
  }
}
