package dev.drainguard.check;

import dev.drainguard.queue.QueueRootSpec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The queue side: each root exists, is a directory and can be read all the way down ({@code
 * queue-root}, one line per root with what the files probe would count and ignore there now, then a
 * WARN for each rule that is likely to be wrong), and the directories the watcher would register
 * fit in the inotify watch limit ({@code inotify}).
 */
final class QueueChecks {

  /** Where Linux publishes {@code fs.inotify.max_user_watches}. */
  static final Path MAX_USER_WATCHES = Path.of("/proc/sys/fs/inotify/max_user_watches");

  /** A limit to suggest when raising it: what current distributions default to on big hosts. */
  static final long SUGGESTED_WATCHES = 524_288;

  /**
   * A residual allowance this large is worth a WARN: it is far more than the index or state file a
   * drained writer keeps (KiB), and every byte of it is data that reads as drained.
   */
  static final long LARGE_RESIDUAL = 64L << 20;

  private final List<QueueRootSpec> roots;
  private final Path maxUserWatches;
  private final String user;

  QueueChecks(List<QueueRootSpec> roots, Path maxUserWatches, String user) {
    this.roots = roots;
    this.maxUserWatches = maxUserWatches;
    this.user = user;
  }

  void run(List<Check> out) {
    long directories = 0;
    int scanned = 0;
    for (QueueRootSpec spec : roots) {
      RootScan scan;
      try {
        scan = RootScan.of(spec);
      } catch (RuntimeException e) {
        scan = RootScan.failed("cannot read " + spec.root() + ": " + e);
      }
      Check line = line(spec, scan);
      out.add(line);
      if (line.status() == Check.Status.PASS) {
        out.addAll(warnings(spec, scan));
        directories += scan.directories();
        scanned++;
      }
    }
    out.add(inotify(directories, scanned));
  }

  private Check line(QueueRootSpec spec, RootScan scan) {
    String name = Checks.QUEUE_ROOT;
    Path root = spec.root();
    if (!Files.exists(root)) {
      String what =
          Files.isSymbolicLink(root) ? " is a symbolic link to nothing" : " does not exist";
      return Check.fail(
          name,
          root + what,
          "create it: install -d "
              + root
              + " (owned by the queue writer), or point --queue-root at the queue directory");
    }
    if (!Files.isDirectory(root)) {
      return Check.fail(
          name,
          root + " is not a directory",
          "point --queue-root (DRAINGUARD_QUEUE_ROOT) at the directory that holds the queues");
    }
    String grant =
        "let the agent's user read it: setfacl -R -m u:" + user + ":rX,d:u:" + user + ":rX " + root;
    if (!Files.isReadable(root) || !Files.isExecutable(root)) {
      return Check.fail(name, root + " is not readable by user " + user, grant);
    }
    if (scan.error() != null) {
      return Check.fail(name, scan.error(), grant);
    }
    String ignored =
        spec.ignoreGlobs().isEmpty()
            ? "nothing ignored (no ignore globs)"
            : files(scan.ignored(), scan.ignoredBytes())
                + " ignored ("
                + String.join(", ", spec.ignoreGlobs())
                + ")";
    return Check.pass(
        name,
        root
            + " readable: "
            + files(scan.counted(), scan.countedBytes())
            + " counted; "
            + ignored
            + "; "
            + count(scan.directories(), "directory")
            + "; "
            + verdict(scan, spec.residualBytes()));
  }

  private static String verdict(RootScan scan, long residual) {
    String allowance = "residual " + count(residual, "byte");
    if (scan.counted() == 0) {
      return "reads as empty";
    }
    if (scan.empty(residual)) {
      return "reads as empty ("
          + count(scan.countedBytes(), "byte")
          + " within the "
          + allowance
          + ")";
    }
    return "reads as holding data (" + allowance + ")";
  }

  /** The rules of a readable root that are likely to be wrong, one WARN each. */
  private static List<Check> warnings(QueueRootSpec spec, RootScan scan) {
    String name = Checks.QUEUE_ROOT;
    Path root = spec.root();
    List<Check> out = new ArrayList<>();
    if (scan.ignored() > 0 && scan.counted() == 0) {
      out.add(
          Check.warn(
              name,
              root
                  + ": the ignore globs match every file present, "
                  + files(scan.ignored(), scan.ignoredBytes())
                  + " ("
                  + examples(scan.ignoredExamples(), scan.ignored())
                  + "): nothing written under these names ever counts as queued",
              "fine if these are only the index or lock files a drained writer keeps; if any of"
                  + " them holds queued data, narrow the globs (matched against the path relative"
                  + " to the root: '*' does not cross '/', '**/' needs at least one directory)"));
    }
    if (spec.residualBytes() >= LARGE_RESIDUAL) {
      out.add(
          Check.warn(
              name,
              root
                  + ": residual allowance "
                  + count(spec.residualBytes(), "byte")
                  + " ("
                  + mib(spec.residualBytes())
                  + "): while the counted files total at most that, the root reads as empty, and"
                  + " that much queued data is lost when the instance terminates",
              "set it to what the writer keeps once drained (an index file: a few KiB) with"
                  + " --residual-bytes, or :residual=BYTES on this --queue-root"));
    }
    if (!scan.linkedDirectories().isEmpty()) {
      out.add(
          Check.warn(
              name,
              root
                  + ": "
                  + count(scan.linkedDirectories().size(), "symbolic link")
                  + (scan.linkedDirectories().size() == 1
                      ? " to a directory ("
                      : " to directories (")
                  + examples(scan.linkedDirectories(), scan.linkedDirectories().size())
                  + "), not followed: files under them are neither watched nor counted",
              "add each link's target as a --queue-root of its own, or replace the link by the"
                  + " directory"));
    }
    return out;
  }

  /** {@code 2 files, 15 bytes}. */
  private static String files(long files, long bytes) {
    return count(files, "file") + ", " + count(bytes, "byte");
  }

  /** The first few paths, then how many more. */
  private static String examples(List<Path> shown, long total) {
    String listed =
        shown.stream()
            .limit(RootScan.EXAMPLES)
            .map(Path::toString)
            .collect(Collectors.joining(", "));
    long more = total - Math.min(shown.size(), RootScan.EXAMPLES);
    return more > 0 ? listed + ", " + more + " more" : listed;
  }

  /** {@code 64 MiB}, {@code 1.5 MiB}. */
  static String mib(long bytes) {
    if (bytes % (1L << 20) == 0) {
      return (bytes >> 20) + " MiB";
    }
    return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
  }

  /**
   * The number in a /proc/sys file, read as a stream. Such a file reports size 0, and the kernel
   * answers a read at any offset but 0 with end-of-file: {@code Files.readString} sizes its buffer
   * from the file's size, so it reads one byte, then reads at offset 1 and stops, and 192540 reads
   * as 1. A stream's first read asks for a whole buffer at offset 0 and gets the whole value.
   */
  static long readLimit(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return Long.parseLong(new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip());
    }
  }

  private Check inotify(long directories, int scanned) {
    String name = Checks.INOTIFY;
    if (scanned == 0) {
      return Check.skip(name, "no queue root could be read");
    }
    long limit;
    try {
      limit = readLimit(maxUserWatches);
    } catch (IOException | NumberFormatException e) {
      return Check.warn(
          name,
          "cannot read fs.inotify.max_user_watches from " + maxUserWatches + " (" + e + ")",
          "on Linux, mount /proc; elsewhere the JDK polls instead of using inotify");
    }
    String counted =
        count(directories, "directory") + " to watch under " + count(scanned, "queue root");
    long suggested = Math.max(SUGGESTED_WATCHES, directories * 4);
    String fix =
        "raise it: sysctl -w fs.inotify.max_user_watches="
            + suggested
            + " and persist it in /etc/sysctl.d/90-drainguard.conf";
    if (directories > limit) {
      return Check.fail(
          name,
          counted
              + ", more than fs.inotify.max_user_watches "
              + limit
              + ": the queue watcher cannot register them all and walks the root every second"
              + " instead",
          fix);
    }
    if (directories * 2 > limit) {
      return Check.warn(
          name,
          counted
              + ", over half of fs.inotify.max_user_watches "
              + limit
              + ", which every process of this user shares",
          fix);
    }
    return Check.pass(name, counted + ", fs.inotify.max_user_watches " + limit);
  }

  /** {@code 1 file}, {@code 2 files}, {@code 1 directory}, {@code 3 directories}. */
  static String count(long n, String noun) {
    if (n == 1) {
      return "1 " + noun;
    }
    return n
        + " "
        + (noun.endsWith("y") ? noun.substring(0, noun.length() - 1) + "ies" : noun + "s");
  }
}
