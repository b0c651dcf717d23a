package dev.drainguard.sim;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The simulator's two HTTP servers on 127.0.0.1 (IMDS and Auto Scaling), each on an ephemeral port;
 * the IMDS one can stop listening and listen again on the same port.
 */
final class SimServers {

  static final String LOOPBACK = "127.0.0.1";

  private final HttpHandler imds;
  private final ExecutorService executor;
  private final Object imdsLock = new Object();
  private final int imdsPort;
  private final HttpServer autoScalingServer;
  private HttpServer imdsServer;
  private boolean closed;

  SimServers(HttpHandler imds, HttpHandler autoScaling) throws IOException {
    this.imds = imds;
    executor = Executors.newCachedThreadPool(daemonThreads());
    imdsServer = bind(0);
    imdsPort = imdsServer.getAddress().getPort();
    try {
      autoScalingServer = bind(0);
    } catch (IOException e) {
      imdsServer.stop(0);
      executor.shutdownNow();
      throw e;
    }
    imdsServer.createContext("/", imds);
    autoScalingServer.createContext("/", autoScaling);
    imdsServer.start();
    autoScalingServer.start();
  }

  URI imdsEndpoint() {
    return URI.create("http://" + LOOPBACK + ":" + imdsPort);
  }

  URI autoScalingEndpoint() {
    return URI.create("http://" + LOOPBACK + ":" + autoScalingServer.getAddress().getPort());
  }

  /** While {@code true}, nothing listens on the IMDS port; {@code false} listens again on it. */
  void setImdsRefusing(boolean refusing) {
    synchronized (imdsLock) {
      if (refusing && imdsServer != null) {
        imdsServer.stop(0);
        imdsServer = null;
      } else if (!refusing && imdsServer == null && !closed) {
        try {
          imdsServer = bind(imdsPort);
        } catch (IOException e) {
          throw new UncheckedIOException(
              "simulator failed to listen again on IMDS port " + imdsPort, e);
        }
        imdsServer.createContext("/", imds);
        imdsServer.start();
      }
    }
  }

  /** Stops both servers at once, dropping requests in flight. */
  void close() {
    synchronized (imdsLock) {
      closed = true;
      if (imdsServer != null) {
        imdsServer.stop(0);
      }
    }
    autoScalingServer.stop(0);
    executor.shutdownNow();
  }

  private HttpServer bind(int port) throws IOException {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getByName(LOOPBACK), port), 0);
    server.setExecutor(executor);
    return server;
  }

  private static ThreadFactory daemonThreads() {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "drainguard-sim-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
