package dev.drainguard.queue;

import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** The files that count under one root (ignore globs applied), with their sizes and ages. */
final class CountedFiles {

  private record Entry(long size, FileTime modified) {}

  private final Path root;
  private final IgnoreRules ignore;
  private Map<Path, Entry> files = new HashMap<>();

  CountedFiles(Path root, IgnoreRules ignore) {
    this.root = root;
    this.ignore = ignore;
  }

  /** Counts {@code file} as it is now: a regular file the globs do not ignore, else nothing. */
  void record(Path file, BasicFileAttributes attrs) {
    if (attrs.isRegularFile() && !ignore.ignores(root.relativize(file))) {
      files.put(file, new Entry(attrs.size(), attrs.lastModifiedTime()));
    } else {
      files.remove(file);
    }
  }

  void remove(Path file) {
    files.remove(file);
  }

  void removeUnder(Path dir) {
    files.keySet().removeIf(f -> f.startsWith(dir));
  }

  void clear() {
    files = new HashMap<>();
  }

  /** What was counted at one moment, to be put back by {@link #restore}. */
  static final class Saved {
    private final Map<Path, Entry> files;

    private Saved(Map<Path, Entry> files) {
      this.files = files;
    }
  }

  Saved save() {
    return new Saved(Map.copyOf(files));
  }

  void restore(Saved saved) {
    files = new HashMap<>(saved.files);
  }

  RootJudgement judge(long residualBytes, String error, String polled) {
    long bytes = 0;
    FileTime oldest = null;
    for (Entry e : files.values()) {
      bytes += e.size();
      if (oldest == null || e.modified().compareTo(oldest) < 0) {
        oldest = e.modified();
      }
    }
    return new RootJudgement(
        root,
        residualBytes,
        files.size(),
        bytes,
        Optional.ofNullable(oldest),
        Optional.ofNullable(error),
        Optional.ofNullable(polled));
  }
}
