package dev.drainguard.net;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * One HTTP/1.1 exchange over a socket of its own, plain or TLS, bounded as a whole: connect, TLS
 * handshake, request, headers and body all end by one deadline, with no thread of its own to
 * enforce it (each blocking step waits at most for what is left). For IMDS, which is plain HTTP on
 * a link-local address and answers in milliseconds, and for the handful of Auto Scaling calls: a
 * whole HTTP client (and the AWS SDK's) costs more classes, memory and CPU than they need.
 *
 * <p>The guard judges the target before the connection is opened; redirects are not followed (a 3xx
 * is returned as it is). TLS checks the server's certificate against the JVM's trust store and its
 * name against the host (SNI and HTTPS endpoint identification). The answer is read to its
 * Content-Length, its last chunk, or the end of the connection, and refused beyond its bound. An
 * https target may be reached through an {@link HttpsProxy} (a CONNECT tunnel; TLS end to end),
 * which the guard judges too.
 */
public final class BoundedHttp {

  /**
   * Headers and body together, unless told otherwise: IMDS answers are tens of bytes, a spot notice
   * under 100.
   */
  public static final int MAX_ANSWER = 64 * 1024;

  /**
   * An answer: its status, its headers (names in lower case; a repeated header keeps its last
   * value) and its body as UTF-8 text.
   */
  public record Answer(int status, Map<String, String> headers, String body) {
    public Answer(int status, String body) {
      this(status, Map.of(), body);
    }

    /** Equal when status and body are: the headers are what the peer chose to add. */
    @Override
    public boolean equals(Object o) {
      return o instanceof Answer a && a.status == status && a.body.equals(body);
    }

    @Override
    public int hashCode() {
      return 31 * status + body.hashCode();
    }
  }

  /**
   * The request was sent and no complete answer came in time: the peer took it and is silent or
   * slow (for IMDS typically the PUT response hop limit), told apart from one that never connected.
   */
  public static final class NoAnswerException extends SocketTimeoutException {
    private static final long serialVersionUID = 1L;

    NoAnswerException(String message) {
      super(message);
    }
  }

  private final LoopbackGuard guard;
  private final String what;
  private final Duration connectTimeout;
  private final Duration readTimeout;
  private final Duration exchangeLimit;
  private final int maxAnswer;
  private final Supplier<SSLSocketFactory> tls;
  private final Optional<HttpsProxy> proxy;

  /**
   * @param what the caller's name for the peer, in the guard's refusal (e.g. "IMDS")
   * @param connectTimeout the longest a connection may take to open
   * @param readTimeout the longest silence once the request is sent
   * @param exchangeLimit the longest the whole exchange may take, however the peer paces it
   */
  public BoundedHttp(
      LoopbackGuard guard,
      String what,
      Duration connectTimeout,
      Duration readTimeout,
      Duration exchangeLimit) {
    this(
        guard,
        what,
        connectTimeout,
        readTimeout,
        exchangeLimit,
        MAX_ANSWER,
        () -> (SSLSocketFactory) SSLSocketFactory.getDefault(),
        Optional.empty());
  }

  /**
   * @param maxAnswer the most bytes of headers and body accepted
   * @param tls the TLS sockets for https targets, asked for at the first https exchange
   * @param proxy the proxy through which https targets are reached, if any
   */
  public BoundedHttp(
      LoopbackGuard guard,
      String what,
      Duration connectTimeout,
      Duration readTimeout,
      Duration exchangeLimit,
      int maxAnswer,
      Supplier<SSLSocketFactory> tls,
      Optional<HttpsProxy> proxy) {
    this.guard = guard;
    this.what = what;
    this.connectTimeout = connectTimeout;
    this.readTimeout = readTimeout;
    this.exchangeLimit = exchangeLimit;
    this.maxAnswer = maxAnswer;
    this.tls = tls;
    this.proxy = proxy;
    proxy.ifPresent(p -> guard.check(what + " proxy", p.address()));
  }

  /** The Host header sent for {@code uri}: its host, and its port when the URI names one. */
  public static String hostHeader(URI uri) {
    return uri.getPort() < 0 ? uri.getHost() : uri.getHost() + ":" + uri.getPort();
  }

  /**
   * Sends {@code method uri} with {@code headers} and no body, and reads the whole answer.
   *
   * @throws EndpointRefusedException when the guard refuses {@code uri}
   * @throws NoAnswerException when the request was sent and no whole answer came in time
   * @throws SocketTimeoutException when no connection opened in time
   * @throws IOException on any other failure, a malformed or an oversized answer
   */
  public Answer exchange(String method, URI uri, Map<String, String> headers) throws IOException {
    return exchange(method, uri, headers, null);
  }

  /** As {@link #exchange(String, URI, Map)}, sending {@code body} (none when null). */
  public Answer exchange(String method, URI uri, Map<String, String> headers, byte[] body)
      throws IOException {
    guard.check(what, uri);
    ExchangeDeadline deadline = new ExchangeDeadline(uri, readTimeout, exchangeLimit);
    boolean secure = "https".equalsIgnoreCase(uri.getScheme());
    if (!(secure || "http".equalsIgnoreCase(uri.getScheme())) || uri.getHost() == null) {
      throw new IOException(
          "only http:// and https:// URLs with a host are spoken here, not " + uri);
    }
    int port = uri.getPort() >= 0 ? uri.getPort() : secure ? 443 : 80;
    Optional<HttpsProxy> via = secure ? proxy : Optional.empty();
    try (Socket plain = new DeadlineSocket(deadline)) {
      plain.setTcpNoDelay(true);
      InetSocketAddress to =
          via.map(p -> new InetSocketAddress(p.address().getHost(), p.address().getPort()))
              .orElseGet(() -> new InetSocketAddress(uri.getHost(), port));
      plain.connect(to, deadline.connectMillis(connectTimeout));
      if (via.isPresent()) {
        tunnel(plain, via.get(), uri, port, deadline);
      }
      Socket socket = secure ? handshake(plain, uri, port, deadline) : plain;
      try {
        OutputStream out = socket.getOutputStream();
        out.write(request(method, uri, headers, body));
        if (body != null) {
          out.write(body);
        }
        out.flush();
        return new HttpAnswerReader(socket, deadline, uri, maxAnswer).answer(method);
      } finally {
        if (socket != plain) {
          socket.close();
        }
      }
    }
  }

  /** Asks the proxy for a tunnel to the target; anything but 2xx is a failure naming both. */
  private void tunnel(Socket socket, HttpsProxy p, URI uri, int port, ExchangeDeadline deadline)
      throws IOException {
    String target = uri.getHost() + ":" + port;
    OutputStream out = socket.getOutputStream();
    out.write(
        ("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    // The proxy's answer is headers only: the target says nothing before the TLS client does.
    int status = new HttpAnswerReader(socket, deadline, p.address(), maxAnswer).head();
    if (status < 200 || status > 299) {
      throw new IOException(
          "proxy "
              + p.address()
              + " ("
              + p.source()
              + ") refused CONNECT "
              + target
              + ": HTTP "
              + status);
    }
  }

  private Socket handshake(Socket plain, URI uri, int port, ExchangeDeadline deadline)
      throws IOException {
    SSLSocket ssl = (SSLSocket) tls.get().createSocket(plain, uri.getHost(), port, true);
    SSLParameters p = ssl.getSSLParameters();
    p.setEndpointIdentificationAlgorithm("HTTPS");
    if (!uri.getHost().contains(":") && !Character.isDigit(uri.getHost().charAt(0))) {
      p.setServerNames(List.of(new SNIHostName(uri.getHost())));
    }
    ssl.setSSLParameters(p);
    ssl.setSoTimeout(deadline.readMillis());
    try {
      ssl.startHandshake();
    } catch (SocketTimeoutException e) {
      throw new SocketTimeoutException("TLS handshake with " + uri + " timed out");
    }
    return ssl;
  }

  private static byte[] request(String method, URI uri, Map<String, String> headers, byte[] body) {
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    String query = uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery();
    StringBuilder r = new StringBuilder(256);
    r.append(method).append(' ').append(path).append(query).append(" HTTP/1.1\r\n");
    r.append("Host: ").append(hostHeader(uri));
    r.append("\r\nUser-Agent: drainguard\r\nAccept: */*\r\nConnection: close\r\n");
    if (body != null || method.equals("PUT") || method.equals("POST")) {
      r.append("Content-Length: ").append(body == null ? 0 : body.length).append("\r\n");
    }
    headers.forEach((k, v) -> r.append(k).append(": ").append(v).append("\r\n"));
    return r.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
  }
}
