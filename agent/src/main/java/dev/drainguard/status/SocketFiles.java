package dev.drainguard.status;

import dev.drainguard.operator.Caller;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.EnumSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control socket's files: its directory (mode 0750: the group may reach the socket but not add,
 * remove or replace anything in it), the socket (0660, group {@code group}), and a stale socket
 * left by an agent that died.
 */
final class SocketFiles {

  private static final Logger log = LoggerFactory.getLogger(SocketFiles.class);

  private static final Set<PosixFilePermission> WRITE_BY_OTHERS =
      EnumSet.of(PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE);

  private SocketFiles() {}

  /**
   * Creates the directory (0750, group {@code group}) when it is missing, takes write access from
   * group and others when it is the agent's own, and removes a stale socket.
   *
   * @throws IllegalStateException when another agent serves {@code path} or it is not a socket
   */
  static void prepare(Path path, String group) throws IOException {
    Path dir = path.toAbsolutePath().getParent();
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir);
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-x---"));
      setGroup(dir, group);
    } else {
      tighten(dir);
    }
    if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      BasicFileAttributes a =
          Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
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

  /** The socket: read and write for owner and group only, group {@code group}. */
  static void restrict(Path path, String group) throws IOException {
    Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw----"));
    setGroup(path, group);
  }

  /**
   * A directory of the agent's own that others may write to (an older unit's 0770) lets a group
   * member delete the socket or put up another: take that away. One that is not the agent's is left
   * as it is, with a warning: clients refuse to trust a socket there unless root serves it.
   */
  private static void tighten(Path dir) throws IOException {
    PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class);
    Set<PosixFilePermission> perms = a.permissions();
    if (perms.stream().noneMatch(WRITE_BY_OTHERS::contains)) {
      return;
    }
    String before = PosixFilePermissions.toString(perms);
    boolean sticky = isSticky(dir);
    boolean mine = Caller.uidOf(a.owner()).orElse(-2) == Caller.selfUid();
    if (mine && !sticky) {
      perms.removeAll(WRITE_BY_OTHERS);
      Files.setPosixFilePermissions(dir, perms);
      log.warn(
          "control socket directory was writable by others path={} mode={}; now {}: a group"
              + " member could have removed or replaced the socket",
          dir,
          before,
          PosixFilePermissions.toString(perms));
    } else {
      log.warn(
          "control socket directory is writable by others path={} mode={} owner={}: clients"
              + " refuse to trust a socket there unless root serves it; choose another"
              + " --control-socket",
          dir,
          before,
          a.owner().getName());
    }
  }

  private static boolean isSticky(Path dir) throws IOException {
    Object mode = Files.getAttribute(dir, "unix:mode");
    return mode instanceof Integer m && (m & 01000) != 0;
  }

  /**
   * Gives {@code p} to {@code group}. A group that does not exist, or that the agent's user is not
   * a member of (a drop-in with another {@code User=}), is a warning, not a failure: the socket
   * keeps the agent's own group, and the agent keeps running (it used to exit, and be restarted for
   * ever).
   */
  private static void setGroup(Path p, String group) throws IOException {
    try {
      GroupPrincipal g =
          p.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(group);
      Files.getFileAttributeView(p, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
          .setGroup(g);
    } catch (UserPrincipalNotFoundException e) {
      log.debug("group {} does not exist; {} keeps its group", group, p);
    } catch (FileSystemException e) {
      log.warn(
          "control socket path={} cannot be given to group={} ({}): it keeps group={}; add the"
              + " agent's user to group {} (usermod -aG {} USER) or set control-group",
          p,
          group,
          e.getReason(),
          Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
              .group()
              .getName(),
          group,
          group);
    }
  }
}
