package dev.drainguard.status;

import dev.drainguard.operator.Caller;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/** Who is on the other end of a Unix domain socket, as the kernel says (SO_PEERCRED). */
final class Peers {

  private Peers() {}

  /** The peer; an IOException where the platform cannot say. */
  static Caller of(SocketChannel ch) throws IOException {
    try {
      UnixDomainPrincipal p = ch.getOption(ExtendedSocketOptions.SO_PEERCRED);
      return Caller.of(p.user());
    } catch (UnsupportedOperationException e) {
      throw new IOException("no peer credentials on this platform: " + e.getMessage(), e);
    }
  }
}
