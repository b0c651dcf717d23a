package dev.drainguard.net;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;

/**
 * A plain socket whose every read waits at most for what the deadline leaves, whoever reads it: TLS
 * reads a record (up to 16 KiB) and its handshake messages with as many socket reads as the peer
 * takes to send them, and a peer or a middlebox that passes them on a byte at a time inside the
 * read timeout would otherwise hold one exchange for hours.
 */
final class DeadlineSocket extends Socket {
  private final ExchangeDeadline deadline;
  private InputStream in;

  DeadlineSocket(ExchangeDeadline deadline) {
    this.deadline = deadline;
  }

  @Override
  public synchronized InputStream getInputStream() throws IOException {
    if (in == null) {
      in =
          new FilterInputStream(super.getInputStream()) {
            @Override
            public int read() throws IOException {
              bound();
              return super.read();
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
              bound();
              return super.read(b, off, len);
            }
          };
    }
    return in;
  }

  private void bound() throws IOException {
    setSoTimeout(deadline.readMillis());
  }
}
