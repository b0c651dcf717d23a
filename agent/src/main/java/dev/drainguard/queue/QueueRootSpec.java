package dev.drainguard.queue;

import java.nio.file.Path;
import java.util.List;

/**
 * One configured queue root and the rules that judge it.
 *
 * @param ignoreGlobs glob patterns (java.nio PathMatcher "glob:" syntax) matched against the path
 *     relative to the root; matching files never count as queued
 * @param residualBytes the root counts as empty while its counted files total at most this many
 *     bytes (a writer that keeps an index file after draining)
 */
public record QueueRootSpec(Path root, List<String> ignoreGlobs, long residualBytes) {
  public QueueRootSpec {
    ignoreGlobs = List.copyOf(ignoreGlobs);
    if (residualBytes < 0) {
      throw new IllegalArgumentException("residualBytes must be >= 0: " + residualBytes);
    }
  }
}
