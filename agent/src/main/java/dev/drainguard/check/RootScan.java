package dev.drainguard.check;

import dev.drainguard.queue.IgnoreRules;
import dev.drainguard.queue.QueueRootSpec;
import java.io.IOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * What one walk of a queue root finds under its rules, walked as the queue watcher walks it: the
 * root itself may be a symbolic link to a directory; below it nothing is followed (entries are
 * stat'ed with {@link LinkOption#NOFOLLOW_LINKS}), so a symbolic link to a directory is neither
 * watched nor counted; only regular files count, unless the root's ignore globs match their path
 * relative to the root ({@link IgnoreRules}, the rules the watcher uses).
 *
 * @param counted regular files the globs do not ignore: what the files probe counts as queued
 * @param ignored regular files the globs ignore
 * @param directories directories the watcher would register, the root included
 * @param ignoredExamples the first few ignored files, relative to the root
 * @param linkedDirectories every symbolic link to a directory under the root, relative to it
 * @param error the first path that could not be read, or null
 */
record RootScan(
    long counted,
    long countedBytes,
    long ignored,
    long ignoredBytes,
    long directories,
    List<Path> ignoredExamples,
    List<Path> linkedDirectories,
    String error) {

  /** Paths kept as examples in a line: enough to recognise, few enough to read. */
  static final int EXAMPLES = 3;

  RootScan {
    ignoredExamples = List.copyOf(ignoredExamples);
    linkedDirectories = List.copyOf(linkedDirectories);
  }

  /** Whether the files probe would read this root as empty now. */
  boolean empty(long residualBytes) {
    return counted == 0 || countedBytes <= residualBytes;
  }

  static RootScan failed(String error) {
    return new RootScan(0, 0, 0, 0, 0, List.of(), List.of(), error);
  }

  /** Walks {@code spec}'s root once; a path that cannot be read is the {@code error}. */
  static RootScan of(QueueRootSpec spec) {
    Path root = spec.root();
    IgnoreRules rules = new IgnoreRules(root, spec.ignoreGlobs());
    long[] n = new long[5]; // counted, countedBytes, ignored, ignoredBytes, directories
    List<Path> ignoredExamples = new ArrayList<>();
    List<Path> linked = new ArrayList<>();
    String error = null;
    Deque<Path> dirs = new ArrayDeque<>();
    dirs.push(root);
    while (!dirs.isEmpty()) {
      Path dir = dirs.pop();
      n[4]++;
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
        for (Path entry : entries) {
          BasicFileAttributes a;
          try {
            a = Files.readAttributes(entry, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
          } catch (NoSuchFileException gone) {
            continue; // deleted between the listing and now: the writer is at work
          }
          Path relative = root.relativize(entry);
          if (a.isDirectory()) {
            dirs.push(entry);
          } else if (a.isSymbolicLink()) {
            if (Files.isDirectory(entry)) {
              linked.add(relative);
            }
          } else if (a.isRegularFile() && rules.ignores(relative)) {
            n[2]++;
            n[3] += a.size();
            if (ignoredExamples.size() < EXAMPLES) {
              ignoredExamples.add(relative);
            }
          } else if (a.isRegularFile()) {
            n[0]++;
            n[1] += a.size();
          }
        }
      } catch (IOException | DirectoryIteratorException e) {
        if (error == null) {
          Object cause = e instanceof DirectoryIteratorException d ? d.getCause() : e;
          error = "cannot read " + dir + " under " + root + ": " + cause;
        }
      }
    }
    return new RootScan(n[0], n[1], n[2], n[3], n[4], ignoredExamples, linked, error);
  }
}
