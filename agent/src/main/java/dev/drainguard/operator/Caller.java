package dev.drainguard.operator;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.attribute.UserPrincipal;
import java.util.OptionalLong;

/**
 * Who sent a control request, as the kernel says: the peer credentials of the connection ({@code
 * SO_PEERCRED}), never what the client claims. The user name is looked up from the uid when the
 * connection is accepted; a uid without a name is its own name.
 *
 * @param uid the caller's user id; -1 when it cannot be told (see {@link #uidOf})
 * @param user the user name, made safe to log
 */
public record Caller(long uid, String user) {

  /** For requests that did not come through the control socket (tests, older callers). */
  public static final Caller UNKNOWN = new Caller(-1, "unknown");

  /** User names longer than this are cut (Linux allows 32; NSS sources may allow more). */
  static final int MAX_USER = 64;

  /**
   * Whether the JDK's Unix user principals hash to their uid, checked once on a principal whose uid
   * is known (root's is 0). The JDK has no public accessor for the numeric id of a principal;
   * {@code sun.nio.fs.UnixUserPrincipals.User.hashCode()} returns it. Should a JDK change that,
   * uids read "-1" and the names still identify callers.
   */
  private static final boolean HASH_IS_UID = rootHashesToZero();

  public Caller {
    user = OperatorText.clean(user == null || user.isBlank() ? "unknown" : user, MAX_USER);
  }

  /** The caller behind {@code user}, a principal from {@code SO_PEERCRED} or a file's owner. */
  public static Caller of(UserPrincipal user) {
    return new Caller(uidOf(user).orElse(-1), user.getName());
  }

  /** True when the uid is known and is root's. */
  public boolean root() {
    return uid == 0;
  }

  /** "alice (uid 1000)": for log lines and messages. */
  public String describe() {
    return uid < 0 ? user + " (uid unknown)" : user + " (uid " + uid + ")";
  }

  /** The key that connection limits count by: the uid, or the name when the uid is unknown. */
  public String key() {
    return uid < 0 ? "user:" + user : "uid:" + uid;
  }

  /**
   * The numeric uid of {@code user}: its name when that is a number (a uid with no passwd entry is
   * named by its number), else what the JDK's principal hashes to, when that is the uid.
   */
  public static OptionalLong uidOf(UserPrincipal user) {
    String name = user.getName();
    if (!name.isEmpty() && name.chars().allMatch(c -> c >= '0' && c <= '9') && name.length() < 10) {
      return OptionalLong.of(Long.parseLong(name));
    }
    if (HASH_IS_UID && isJdkUnixPrincipal(user)) {
      return OptionalLong.of(Integer.toUnsignedLong(user.hashCode()));
    }
    return OptionalLong.empty();
  }

  /** This process's own (effective) uid. */
  public static long selfUid() {
    return new com.sun.security.auth.module.UnixSystem().getUid();
  }

  /** The uid of the user named {@code name} on this machine, if there is one. */
  public static OptionalLong uidOf(String name) {
    try {
      return uidOf(
          FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByName(name));
    } catch (IOException | UnsupportedOperationException e) {
      return OptionalLong.empty();
    }
  }

  private static boolean isJdkUnixPrincipal(UserPrincipal p) {
    return p.getClass().getName().equals("sun.nio.fs.UnixUserPrincipals$User");
  }

  private static boolean rootHashesToZero() {
    try {
      UserPrincipal root =
          FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByName("root");
      return isJdkUnixPrincipal(root) && root.hashCode() == 0;
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }
}
