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

  private final WatchService service;
  private final Map<Path, WatchKey> keysByDir = new HashMap<>();
  private final Map<WatchKey, Path> dirsByKey = new IdentityHashMap<>();

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

  /** Registers {@code dir}, replacing any earlier key for it. */
  void register(Path dir) throws IOException {
    cancel(dir);
    WatchKey key = dir.register(service, KINDS);
    if (!dir.equals(key.watchable())) {
      // inotify hands back the existing key of the same directory under its old name when it was
      // moved and its old watch is still there (normally the DELETE of the old name cancels it
      // first); that key would report events under the old path, so replace it
      cancel(dirsByKey.get(key));
      cancel(key);
      key = dir.register(service, KINDS);
    }
    keysByDir.put(dir, key);
    dirsByKey.put(key, dir);
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
