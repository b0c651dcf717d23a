package dev.drainguard.queue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Queue trees for the benchmarks, laid out as Cribl lays out persistent queues: {@code
 * root/<worker-process>/<output-id>/<file>}. A complete tree is reused by later runs (a marker file
 * beside it says it is complete), so only the first run pays for creating it.
 */
public final class TreeFixture {

  /**
   * The bytes of each queue file: their size does not change the cost of a scan, their count does.
   */
  static final int FILE_BYTES = 100;

  private TreeFixture() {}

  /**
   * The directory under which benchmarks put their trees: {@code -Dbench.work}, else a temp dir.
   */
  public static Path workDir() {
    String dir = System.getProperty("bench.work");
    try {
      return dir != null
          ? Files.createDirectories(Path.of(dir))
          : Files.createTempDirectory("drainguard-bench");
    } catch (IOException e) {
      throw new UncheckedIOException("creating the benchmark work directory " + dir, e);
    }
  }

  /**
   * A tree of {@code workers × outputsPerWorker} queue directories holding {@code filesPerDir}
   * files each.
   */
  public static Path tree(
      Path parent, String name, int workers, int outputsPerWorker, int filesPerDir)
      throws IOException {
    Path root = parent.resolve(name).toAbsolutePath().normalize();
    Path marker = parent.resolve(name + ".complete");
    if (Files.exists(marker)) {
      return root;
    }
    byte[] data = new byte[FILE_BYTES];
    for (int w = 0; w < workers; w++) {
      for (int o = 0; o < outputsPerWorker; o++) {
        Path dir = Files.createDirectories(root.resolve("w" + w).resolve("out-" + o));
        for (int f = 0; f < filesPerDir; f++) {
          Path file = dir.resolve(String.format("%010d.pq", f));
          if (!Files.exists(file)) {
            Files.write(file, data);
          }
        }
      }
    }
    Files.createFile(marker);
    return root;
  }
}
