package dev.drainguard.queue;

import java.nio.file.FileSystem;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;

/**
 * The ignore globs of one queue root.
 *
 * <p>Each glob is a {@link FileSystem#getPathMatcher} {@code "glob:"} pattern matched against a
 * file's path <em>relative to the root</em>, exactly as java.nio defines it: {@code *} does not
 * cross directory boundaries and {@code **} does. So {@code *.lock} matches only {@code x.lock}
 * directly under the root; {@code **}{@code /*.idx} matches {@code a/x.idx} and {@code a/b/x.idx}
 * but not a top-level {@code x.idx} (use {@code {*.idx,**}{@code /*.idx}} for any depth); {@code
 * tmp/**} matches everything under {@code tmp}. Globs apply to files only: directories are always
 * watched, since a file under an ignored-looking directory name may still count.
 */
public final class IgnoreRules {

  private final List<PathMatcher> matchers;

  /**
   * @throws IllegalArgumentException naming the root and the glob when a glob is malformed
   */
  public IgnoreRules(Path root, List<String> globs) {
    FileSystem fs = root.getFileSystem();
    List<PathMatcher> built = new ArrayList<>(globs.size());
    for (String glob : globs) {
      try {
        built.add(fs.getPathMatcher("glob:" + glob));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "invalid ignore glob for queue root=" + root + " glob=" + glob + ": " + e.getMessage(),
            e);
      }
    }
    this.matchers = List.copyOf(built);
  }

  /** Whether the file at {@code relative} (a path relative to the root) never counts. */
  /** True when there is no rule: callers need not build the relative path. */
  boolean ignoresNothing() {
    return matchers.isEmpty();
  }

  public boolean ignores(Path relative) {
    for (PathMatcher matcher : matchers) {
      if (matcher.matches(relative)) {
        return true;
      }
    }
    return false;
  }
}
