package dev.drainguard.queue;

import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The files that count under one root (ignore globs applied), with their sizes and ages.
 *
 * <p>Accounted per file, not per name: the names of one file (hard links, told apart by {@link
 * BasicFileAttributes#fileKey()}, the device and inode) share one size. inotify reports a write
 * only under the name it went through, so a size kept per name goes stale under the others; one
 * entry per file is right whichever name is stat'ed. A file with several names counts once.
 */
final class CountedFiles {

  /** One file: its size and modification time as last stat'ed, and its names that count. */
  private static final class File {
    final Object key;
    long size;
    FileTime modified;

    /** Its names: nearly always one, so a list only for a file with several. */
    Path name;

    List<Path> more;

    File(Object key) {
      this.key = key;
    }

    void add(Path n) {
      if (name == null) {
        name = n;
      } else {
        if (more == null) {
          more = new ArrayList<>(2);
        }
        more.add(n);
      }
    }

    /** Removes a name; returns the names left. */
    List<Path> remove(Path n) {
      if (more == null) {
        name = null;
        return List.of();
      }
      if (n.equals(name)) {
        name = more.remove(more.size() - 1);
      } else {
        more.remove(n);
      }
      List<Path> left = new ArrayList<>(more);
      left.add(name);
      if (more.isEmpty()) {
        more = null;
      }
      return left;
    }
  }

  private final Path root;
  private final IgnoreRules ignore;
  private Map<Path, File> byName = new HashMap<>();
  private Map<Object, File> byKey = new HashMap<>();

  CountedFiles(Path root, IgnoreRules ignore) {
    this.root = root;
    this.ignore = ignore;
  }

  /**
   * Counts {@code file} as it is now: a regular file the globs do not ignore, else nothing.
   *
   * @return whether the file's size or modification time changed (or it is new)
   */
  boolean record(Path file, BasicFileAttributes attrs) {
    if (!attrs.isRegularFile()
        || (!ignore.ignoresNothing() && ignore.ignores(root.relativize(file)))) {
      boolean counted = byName.containsKey(file);
      remove(file);
      return counted;
    }
    Object key = attrs.fileKey() != null ? attrs.fileKey() : file;
    File f = byName.get(file);
    if (f != null && !f.key.equals(key)) {
      remove(file); // another file now has this name (replaced by a rename)
      f = null;
    }
    boolean changed = f == null;
    if (f == null) {
      f = byKey.computeIfAbsent(key, File::new);
      f.add(file);
      byName.put(file, f);
    }
    changed |= f.size != attrs.size() || !attrs.lastModifiedTime().equals(f.modified);
    f.size = attrs.size();
    f.modified = attrs.lastModifiedTime();
    return changed;
  }

  /**
   * Stops counting the name {@code file}.
   *
   * @return the other names of the same file, still counted (they may need a fresh stat: the file
   *     may have been written through the name that went); empty for a file with one name
   */
  List<Path> remove(Path file) {
    File f = byName.remove(file);
    if (f == null) {
      return List.of();
    }
    List<Path> left = f.remove(file);
    if (left.isEmpty()) {
      byKey.remove(f.key);
    }
    return left;
  }

  /** Stops counting every name under {@code dir}. */
  void removeUnder(Path dir) {
    for (Path name : List.copyOf(byName.keySet())) {
      if (name.startsWith(dir)) {
        remove(name);
      }
    }
  }

  void clear() {
    // sized for as many files as before: a rescan of a large root rebuilds the maps without
    // growing them step by step (each step a copy, garbage for the collector)
    byName = new HashMap<>(capacityFor(byName.size()));
    byKey = new HashMap<>(capacityFor(byKey.size()));
  }

  private static int capacityFor(int entries) {
    return Math.max(16, (int) (entries / 0.75f) + 1);
  }

  /** What was counted at one moment, to be put back by {@link #restore}. */
  static final class Saved {
    private final Map<Path, File> byName;
    private final Map<Object, File> byKey;

    private Saved(Map<Path, File> byName, Map<Object, File> byKey) {
      this.byName = byName;
      this.byKey = byKey;
    }
  }

  /** Hands over the current state for {@link #restore}; the counts start empty. */
  Saved saveAndClear() {
    Saved saved = new Saved(byName, byKey);
    clear();
    return saved;
  }

  void restore(Saved saved) {
    byName = saved.byName;
    byKey = saved.byKey;
  }

  RootJudgement judge(long residualBytes, String error, String polled) {
    long bytes = 0;
    FileTime oldest = null;
    for (File f : byKey.values()) {
      bytes += f.size;
      if (oldest == null || f.modified.compareTo(oldest) < 0) {
        oldest = f.modified;
      }
    }
    return new RootJudgement(
        root,
        residualBytes,
        byKey.size(),
        bytes,
        Optional.ofNullable(oldest),
        Optional.ofNullable(error),
        Optional.ofNullable(polled));
  }
}
