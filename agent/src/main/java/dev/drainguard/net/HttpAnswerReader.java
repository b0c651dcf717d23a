package dev.drainguard.net;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Reads one HTTP/1.1 answer from a socket, each read waiting at most for what the exchange's
 * deadline leaves: status line, headers, and a body by chunks, by Content-Length or to the end,
 * refused beyond {@code maxAnswer} bytes in all.
 */
final class HttpAnswerReader {
  private final Socket socket;
  private final InputStream in;
  private final ExchangeDeadline deadline;
  private final URI uri;
  private final int maxAnswer;
  private final byte[] buf = new byte[2048];
  private int pos;
  private int end;
  private int total;

  /**
   * @param uri the peer, as messages name it
   */
  HttpAnswerReader(Socket socket, ExchangeDeadline deadline, URI uri, int maxAnswer)
      throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
    this.deadline = deadline;
    this.uri = uri;
    this.maxAnswer = maxAnswer;
  }

  /** Reads a status line and its headers only (a proxy's answer to CONNECT); the status. */
  int head() throws IOException {
    int status = statusLine(line());
    headers();
    return status;
  }

  BoundedHttp.Answer answer(String method) throws IOException {
    int status;
    Map<String, String> headers;
    do {
      status = statusLine(line());
      headers = headers();
    } while (status >= 100 && status < 200);
    if (method.equals("HEAD") || status == 204 || status == 304) {
      return new BoundedHttp.Answer(status, headers, "");
    }
    byte[] body;
    if (headers
        .getOrDefault("transfer-encoding", "")
        .toLowerCase(Locale.ROOT)
        .contains("chunked")) {
      body = chunked();
    } else if (headers.containsKey("content-length")) {
      body = exactly(contentLength(headers.get("content-length")));
    } else {
      body = toEnd();
    }
    return new BoundedHttp.Answer(
        status, Map.copyOf(headers), new String(body, StandardCharsets.UTF_8));
  }

  private int statusLine(String line) throws IOException {
    // HTTP/1.1 200 OK
    if (!line.startsWith("HTTP/1.") || line.length() < 12 || line.charAt(8) != ' ') {
      throw malformed("status line '" + line + "'");
    }
    try {
      return Integer.parseInt(line.substring(9, 12));
    } catch (NumberFormatException e) {
      throw malformed("status line '" + line + "'");
    }
  }

  private Map<String, String> headers() throws IOException {
    Map<String, String> h = new HashMap<>();
    for (String line = line(); !line.isEmpty(); line = line()) {
      int colon = line.indexOf(':');
      if (colon <= 0) {
        throw malformed("header '" + line + "'");
      }
      h.put(
          line.substring(0, colon).strip().toLowerCase(Locale.ROOT),
          line.substring(colon + 1).strip());
    }
    return h;
  }

  private int contentLength(String v) throws IOException {
    try {
      long n = Long.parseLong(v);
      if (n < 0) {
        throw malformed("Content-Length " + v);
      }
      if (n > maxAnswer) {
        throw tooLarge();
      }
      return (int) n;
    } catch (NumberFormatException e) {
      throw malformed("Content-Length " + v);
    }
  }

  private byte[] chunked() throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      String size = line();
      int semi = size.indexOf(';');
      int n;
      try {
        n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).strip(), 16);
      } catch (NumberFormatException e) {
        throw malformed("chunk size '" + size + "'");
      }
      if (n < 0 || n > maxAnswer) {
        throw tooLarge();
      }
      if (n == 0) {
        while (!line().isEmpty()) {
          // trailers, read and ignored
        }
        return body.toByteArray();
      }
      body.writeBytes(exactly(n));
      if (!line().isEmpty()) {
        throw malformed("chunk without its line end");
      }
    }
  }

  private byte[] exactly(int n) throws IOException {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      int c = next();
      if (c < 0) {
        throw malformed("answer cut short: " + i + " of " + n + " bytes");
      }
      b[i] = (byte) c;
    }
    return b;
  }

  private byte[] toEnd() throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (int c = next(); c >= 0; c = next()) {
      body.write(c);
    }
    return body.toByteArray();
  }

  /** One header line without its CRLF (a bare LF is taken too). */
  private String line() throws IOException {
    StringBuilder s = new StringBuilder(64);
    for (int c = next(); c != '\n'; c = next()) {
      if (c < 0) {
        throw malformed("answer cut short in its headers");
      }
      if (c != '\r') {
        s.append((char) c);
      }
    }
    return s.toString();
  }

  private int next() throws IOException {
    if (pos == end) {
      socket.setSoTimeout(deadline.readMillis());
      try {
        end = in.read(buf);
      } catch (SocketTimeoutException e) {
        throw deadline.silent();
      }
      pos = 0;
      if (end < 0) {
        end = 0;
        return -1;
      }
      total += end;
      if (total > maxAnswer) {
        throw tooLarge();
      }
    }
    return buf[pos++] & 0xff;
  }

  private IOException malformed(String what) {
    return new IOException("malformed HTTP answer from " + uri + ": " + what);
  }

  private IOException tooLarge() {
    return new IOException("answer from " + uri + " is larger than " + maxAnswer + " bytes");
  }
}
