package dev.drainguard.queue;

import java.io.IOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * The watched directories and counted files of one root, changed path by path as events are
 * applied, or by walks. Paths are stat'ed without following symlinks: a symlink (to a file or a
 * directory) counts as nothing and is not followed; so do sockets, pipes and devices. Only the
 * watcher thread calls it, through its {@link RootTracker}.
 */
final class RootTree {

  private final Path root;
  private final DirWatches watches;
  private final CountedFiles files;

  /** Whether walks register the directories they list. */
  private boolean registering = true;

  /** Whether the counts changed since {@link #takeChanged}. */
  private boolean changed = true;

  /** Why inotify refused a watch during the last walks; null when it did not. */
  private IOException watchLimit;

  private int watchedAtLimit;

  RootTree(Path root, DirWatches watches, CountedFiles files) {
    this.root = root;
    this.watches = watches;
    this.files = files;
  }

  DirWatches watches() {
    return watches;
  }

  CountedFiles files() {
    return files;
  }

  /** Whether the counts changed since the last call. */
  boolean takeChanged() {
    boolean c = changed;
    changed = false;
    return c;
  }

  /** Counts have to be judged again (a caller changed {@link #files()} directly). */
  void changed() {
    changed = true;
  }

  /**
   * The inotify watch limit met since the last call, with every watch let go, or null. {@link
   * #watchedAtLimit()} says how many directories were watched when it was met.
   */
  IOException takeWatchLimit() {
    IOException e = watchLimit;
    watchLimit = null;
    return e;
  }

  int watchedAtLimit() {
    return watchedAtLimit;
  }

  /** Whether walks register what they list (off while the root is polled). */
  void registering(boolean on) {
    registering = on;
  }

  /**
   * Applies one path an event named, as it is now; {@code structural} when it was created, deleted
   * or moved rather than written.
   */
  void apply(Path path, boolean structural) throws IOException {
    BasicFileAttributes attrs = lstat(path);
    if (attrs == null) {
      restat(forget(path));
    } else if (attrs.isDirectory()) {
      // a created directory may already hold files (or be a different directory than the one
      // registered at this path): register it afresh and list it, since its events were missed
      if (structural || !watches.contains(path)) {
        restat(forget(path));
        scan(path);
      }
    } else {
      if (watches.contains(path)) {
        forget(path); // was a directory
      }
      record(path, attrs);
    }
  }

  /**
   * Walks the tree under {@code top}, registering each directory before listing it (while
   * registering) and counting its files.
   *
   * @throws NoSuchFileException or {@link NotDirectoryException} when the root itself is gone
   */
  void scan(Path top) throws IOException {
    Deque<Path> dirs = new ArrayDeque<>();
    dirs.push(top);
    while (!dirs.isEmpty()) {
      Path dir = dirs.pop();
      try {
        if (registering) {
          watch(dir);
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
          for (Path entry : entries) {
            BasicFileAttributes attrs = lstat(entry);
            if (attrs != null && attrs.isDirectory()) {
              dirs.push(entry);
            } else if (attrs != null) {
              record(entry, attrs);
            }
          }
        } catch (DirectoryIteratorException e) {
          throw e.getCause();
        }
      } catch (NoSuchFileException | NotDirectoryException e) {
        if (dir.equals(root)) {
          throw e;
        }
        // gone or replaced since it was listed: its parent's event accounts for it
      }
    }
  }

  /** Lets go of every watch and count. */
  void forgetAll() {
    changed = true;
    files.clear();
    watches.cancelAll();
  }

  /**
   * Stats again the other names of a file whose name went: it may have been written through that
   * name, and inotify reports a write only under the name it went through.
   */
  private void restat(List<Path> names) throws IOException {
    for (Path name : names) {
      BasicFileAttributes attrs = lstat(name);
      if (attrs == null) {
        changed = true;
        files.remove(name); // gone too: its own event follows
      } else {
        record(name, attrs);
      }
    }
  }

  /** Registers {@code dir}; at the inotify watch limit, lets go of every watch. */
  private void watch(Path dir) throws IOException {
    try {
      Path movedFrom = watches.register(dir);
      if (movedFrom != null) {
        // the directory was moved here from movedFrom, whose event has not been applied yet:
        // nothing under the old name is there any more (it is listed under the new one now)
        changed = true;
        files.removeUnder(movedFrom);
        watches.cancelUnder(movedFrom);
      }
    } catch (IOException e) {
      if (!DirWatches.isWatchLimit(e)) {
        throw e;
      }
      watchedAtLimit = watches.size();
      watchLimit = e;
      watches.cancelAll();
      registering = false;
    }
  }

  private void record(Path file, BasicFileAttributes attrs) {
    changed |= files.record(file, attrs);
  }

  /**
   * Drops a path and, when it was a watched directory, everything under it.
   *
   * @return the other names of the file at {@code path}, if it had any (see {@link #restat})
   */
  private List<Path> forget(Path path) {
    changed = true;
    List<Path> others = files.remove(path);
    if (watches.contains(path)) {
      files.removeUnder(path);
      watches.cancelUnder(path);
    }
    return others;
  }

  private static BasicFileAttributes lstat(Path path) throws IOException {
    try {
      return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return null; // vanished between the event (or the listing) and now: simply gone
    }
  }
}
