package dev.drainguard.queue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

/**
 * The Cribl API's bearer token, read from its file at every reading (so a rotated token is picked
 * up). The file must be a regular file owned by the agent's user or root, neither readable nor
 * writable by others; only its first line is the token. No message ever quotes the token: a refusal
 * names the file and what is wrong with it.
 */
final class CriblToken {

  /** A token is a few hundred bytes; a file far larger is not a token file. */
  static final int MAX_READ = 16 * 1024;

  /** Why the token cannot be used; the message names the file, never the token. */
  static final class Refused extends Exception {
    Refused(String message) {
      super(message);
    }
  }

  private CriblToken() {}

  /**
   * The token on the first line of {@code file}, checked.
   *
   * @param agentUid the agent's own user id: the file must be its or root's
   */
  static String read(Path file, int agentUid) throws Refused {
    String where = "token file " + file;
    try {
      if (!Files.exists(file)) {
        throw new Refused(where + " does not exist");
      }
      if (!Files.isRegularFile(file)) {
        throw new Refused(where + " is not a regular file");
      }
      int owner = (Integer) Files.getAttribute(file, "unix:uid");
      if (owner != agentUid && owner != 0) {
        throw new Refused(
            where
                + " is owned by uid "
                + owner
                + ": it must be the agent's user's (uid "
                + agentUid
                + ") or root's");
      }
      Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
      if (mode.contains(PosixFilePermission.OTHERS_READ)
          || mode.contains(PosixFilePermission.OTHERS_WRITE)) {
        throw new Refused(
            where
                + " can be read or written by every user: chmod o-rw (0600, or 0640 with group"
                + " drainguard)");
      }
      String first;
      try (InputStream in = Files.newInputStream(file)) {
        String text = new String(in.readNBytes(MAX_READ), StandardCharsets.UTF_8);
        int end = text.indexOf('\n');
        first = (end < 0 ? text : text.substring(0, end)).strip();
      }
      if (first.isEmpty()) {
        throw new Refused(where + " has no token on its first line");
      }
      for (int i = 0; i < first.length(); i++) {
        char c = first.charAt(i);
        if (c < 0x21 || c > 0x7e) {
          throw new Refused(
              where
                  + ": its first line ("
                  + first.length()
                  + " characters) has a character an"
                  + " HTTP header cannot carry at position "
                  + (i + 1));
        }
      }
      return first;
    } catch (NoSuchFileException e) {
      throw new Refused(where + " does not exist");
    } catch (IOException | UnsupportedOperationException | ClassCastException e) {
      throw new Refused(where + " cannot be read: " + e.getClass().getSimpleName());
    }
  }

  /** The user id this agent runs as: the owner of its {@code /proc/self}. */
  static int agentUid() {
    try {
      return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    } catch (IOException | RuntimeException e) {
      return -1; // unknown: only root's files pass
    }
  }
}
