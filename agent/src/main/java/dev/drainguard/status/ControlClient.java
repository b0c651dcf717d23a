package dev.drainguard.status;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Asks a running agent over its control socket; one request, one reply. */
public final class ControlClient {

  /**
   * How long to wait for a reply: a hold or release may wait for a tick that is retrying an API
   * call (a few seconds); anything longer means the agent is stuck.
   */
  public static final Duration REPLY_TIMEOUT = Duration.ofSeconds(30);

  /** The agent could not be reached, or did not answer. */
  public static final class UnreachableException extends Exception {
    UnreachableException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private final Path socket;
  private final Duration timeout;

  public ControlClient(Path socket, Duration timeout) {
    this.socket = socket;
    this.timeout = timeout;
  }

  public ControlProtocol.Reply send(ControlProtocol.Request request) throws UnreachableException {
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
                  throw new java.io.UncheckedIOException(e);
                }
              })
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException | InterruptedException e) {
      closeQuietly(ch);
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      Throwable cause = e instanceof ExecutionException ? e.getCause().getCause() : e;
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
    CompletableFuture<String> exchange =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                OutputStream out = Channels.newOutputStream(ch);
                out.write(ControlProtocol.JSON.writeValueAsBytes(request));
                out.write('\n');
                out.flush();
                return new BufferedReader(
                        new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8))
                    .readLine();
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            });
    try (ch) {
      String line = exchange.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (line == null) {
        throw new UnreachableException("the agent at " + socket + " closed without a reply", null);
      }
      return ControlProtocol.JSON.readValue(line, ControlProtocol.Reply.class);
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
