package dev.drainguard.queue;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The watch keys of one root's directories, looked up both ways. A key that is not here was
 * cancelled by us, and its events are stale.
 */
final class DirWatches {

  private static final WatchEvent.Kind<?>[] KINDS = {ENTRY_CREATE, ENTRY_DELETE, ENTRY_MODIFY};

  /** The JDK's message when inotify refuses a watch with ENOSPC (fs.inotify.max_user_watches). */
  static final String WATCH_LIMIT_MESSAGE = "User limit of inotify watches reached";

  private final WatchService service;
  private final Map<Path, WatchKey> keysByDir = new HashMap<>();
  private final Map<WatchKey, Path> dirsByKey = new IdentityHashMap<>();
  private int limitForTest = Integer.MAX_VALUE;

  DirWatches(WatchService service) {
    this.service = service;
  }

  WatchService service() {
    return service;
  }

  /** The directory a key watches, or null when the key is not (any longer) ours. */
  Path dirOf(WatchKey key) {
    return dirsByKey.get(key);
  }

  boolean contains(Path dir) {
    return keysByDir.containsKey(dir);
  }

  int size() {
    return keysByDir.size();
  }

  /** Whether a key of ours was cancelled without our doing (its directory went away). */
  boolean anyInvalid() {
    return keysByDir.values().stream().anyMatch(k -> !k.isValid());
  }

  /** Whether a registration failed because the user's inotify watches are used up. */
  static boolean isWatchLimit(IOException e) {
    return e.getMessage() != null && e.getMessage().contains(WATCH_LIMIT_MESSAGE);
  }

  /** Why a root that met the watch limit is polled, and what to do about it; for status. */
  static String pollingReason(IOException e) {
    return String.format(
        "%s: walked every %d s instead, watches tried again every %d s (raise"
            + " fs.inotify.max_user_watches)",
        e.getMessage(),
        WatcherLoop.POLL_INTERVAL.toSeconds(),
        WatcherLoop.WATCH_RETRY_INTERVAL.toSeconds());
  }

  /** Test hook: refuse registrations beyond {@code n} keys as inotify does at its limit. */
  void limitForTest(int n) {
    limitForTest = n;
  }

  /**
   * Registers {@code dir}, replacing any earlier key for it.
   *
   * @return the path this directory was registered under before, when it has been moved here from
   *     there and that path is still recorded (its move's events are not applied yet): nothing
   *     under that old path is there any more; null otherwise
   * @throws IOException when the directory cannot be watched; see {@link #isWatchLimit}
   */
  Path register(Path dir) throws IOException {
    cancel(dir);
    if (keysByDir.size() >= limitForTest) {
      throw new IOException(WATCH_LIMIT_MESSAGE);
    }
    WatchKey key = dir.register(service, KINDS);
    Path movedFrom = null;
    if (!dir.equals(key.watchable())) {
      // inotify hands back the existing key of the same directory under its old name when it was
      // moved and its old watch is still there (normally the DELETE of the old name cancels it
      // first); that key would report events under the old path, so replace it
      movedFrom = dirsByKey.get(key);
      cancel(movedFrom);
      cancel(key);
      key = dir.register(service, KINDS);
    }
    keysByDir.put(dir, key);
    dirsByKey.put(key, dir);
    return movedFrom;
  }

  /** Cancels the keys of {@code top} and every directory under it. */
  void cancelUnder(Path top) {
    for (Path dir : List.copyOf(keysByDir.keySet())) {
      if (dir.startsWith(top)) {
        cancel(dir);
      }
    }
  }

  void cancelAll() {
    keysByDir.values().forEach(DirWatches::cancel);
    keysByDir.clear();
    dirsByKey.clear();
  }

  private void cancel(Path dir) {
    WatchKey key = dir == null ? null : keysByDir.remove(dir);
    if (key != null) {
      dirsByKey.remove(key);
      cancel(key);
    }
  }

  /**
   * Cancels a key unless it is already invalid: Jimfs's polling service throws when a key it has
   * cancelled itself (directory gone) is cancelled again after its last key went.
   */
  private static void cancel(WatchKey key) {
    if (key.isValid()) {
      key.cancel();
    }
  }
}
