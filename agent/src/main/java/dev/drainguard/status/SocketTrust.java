package dev.drainguard.status;

import dev.drainguard.operator.Caller;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Whether a client may believe what a control socket says: the process serving it (as the kernel
 * reports, {@code SO_PEERCRED}, after connecting: no race with the file) must be root or the owner
 * of the socket's directory, the agent's user. A group member who put up a socket of their own
 * serves it as themselves and is not believed. Where others could have made or replaced the
 * directory itself (a directory, or one above it, that others may write to, like /tmp), only an
 * agent run by root, by the {@value ControlServer#GROUP} user or by the caller is believed.
 */
final class SocketTrust {

  /** The user the packaged service runs as. */
  static final String AGENT_USER = "drainguard";

  private SocketTrust() {}

  /**
   * Empty when the agent serving {@code socket} as {@code server} is to be believed; else why not.
   */
  static Optional<String> check(Path socket, Caller server) throws IOException {
    if (server.uid() < 0) {
      return Optional.of("the kernel did not say which user serves it");
    }
    Path dir = socket.toAbsolutePath().getParent().toRealPath();
    PosixFileAttributes d = Files.readAttributes(dir, PosixFileAttributes.class);
    long owner = Caller.uidOf(d.owner()).orElse(-1);
    if (!server.root() && server.uid() != owner) {
      return Optional.of(
          "it is served by "
              + server.describe()
              + ", but "
              + dir
              + " belongs to "
              + Caller.of(d.owner()).describe()
              + ": that is not the agent");
    }
    Optional<Path> exposed = exposed(dir, owner);
    if (exposed.isPresent() && !trustedAnywhere(server)) {
      return Optional.of(
          exposed.get()
              + " may be changed by other users, so "
              + dir
              + " may not be the agent's: only an agent run by root, "
              + AGENT_USER
              + " or you is believed there; choose a --control-socket in a directory only the"
              + " agent's user can write");
    }
    return Optional.empty();
  }

  /**
   * The directory, or one above it, in which users other than root and {@code owner} may replace
   * what leads to the socket: one they own, or one they may write to, unless it is sticky (like
   * /tmp) and what the path takes from it belongs to root or {@code owner} (only they may rename or
   * delete it there).
   */
  private static Optional<Path> exposed(Path dir, long owner) throws IOException {
    long childOwner = -1;
    for (Path p = dir; p != null; p = p.getParent()) {
      PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class);
      long uid = Caller.uidOf(a.owner()).orElse(-1);
      boolean othersWrite =
          a.permissions().contains(PosixFilePermission.GROUP_WRITE)
              || a.permissions().contains(PosixFilePermission.OTHERS_WRITE);
      boolean guardedBySticky =
          !p.equals(dir) && sticky(p) && (childOwner == 0 || childOwner == owner);
      if ((uid != 0 && uid != owner) || (othersWrite && !guardedBySticky)) {
        return Optional.of(p);
      }
      childOwner = uid;
    }
    return Optional.empty();
  }

  private static boolean sticky(Path p) throws IOException {
    return Files.getAttribute(p, "unix:mode") instanceof Integer m && (m & 01000) != 0;
  }

  private static boolean trustedAnywhere(Caller server) {
    if (server.root() || server.uid() == Caller.selfUid()) {
      return true;
    }
    OptionalLong agent = Caller.uidOf(AGENT_USER);
    return agent.isPresent() && agent.getAsLong() == server.uid();
  }
}
