package dev.drainguard.check;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;

/**
 * The queue side: each root exists, is a directory and can be read all the way down ({@code
 * queue-root}, one line per root, with what it holds now), and the directories the watcher would
 * register fit in the inotify watch limit ({@code inotify}).
 */
final class QueueChecks {

  /** Where Linux publishes {@code fs.inotify.max_user_watches}. */
  static final Path MAX_USER_WATCHES = Path.of("/proc/sys/fs/inotify/max_user_watches");

  /** A limit to suggest when raising it: what current distributions default to on big hosts. */
  static final long SUGGESTED_WATCHES = 524_288;

  private final List<Path> roots;
  private final Path maxUserWatches;
  private final String user;

  QueueChecks(List<Path> roots, Path maxUserWatches, String user) {
    this.roots = roots;
    this.maxUserWatches = maxUserWatches;
    this.user = user;
  }

  /** What a one-shot walk of a root found; {@code error} is the first path that failed. */
  record Scan(long files, long bytes, long directories, String error) {}

  void run(List<Check> out) {
    long directories = 0;
    int scanned = 0;
    for (Path root : roots) {
      Scan scan;
      try {
        scan = scan(root);
      } catch (IOException | RuntimeException e) {
        scan = new Scan(0, 0, 0, "cannot read " + root + ": " + e);
      }
      Check line = line(root, scan);
      out.add(line);
      if (line.status() == Check.Status.PASS) {
        directories += scan.directories();
        scanned++;
      }
    }
    out.add(inotify(directories, scanned));
  }

  private Check line(Path root, Scan scan) {
    String name = Checks.QUEUE_ROOT;
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
    return Check.pass(
        name,
        root
            + " readable: "
            + count(scan.files(), "file")
            + ", "
            + count(scan.bytes(), "byte")
            + " in "
            + count(scan.directories(), "directory"));
  }

  /** Walks a root once; symbolic links are not followed, as the watcher does not. */
  static Scan scan(Path root) throws IOException {
    if (!Files.isDirectory(root)) {
      return new Scan(0, 0, 0, null);
    }
    long[] counts = new long[3];
    String[] error = new String[1];
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
            counts[2]++;
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
            if (attrs.isRegularFile()) {
              counts[0]++;
              counts[1] += attrs.size();
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException e) {
            if (error[0] == null) {
              error[0] = "cannot read " + file + " under " + root + ": " + e;
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path dir, IOException e) {
            if (e != null && error[0] == null) {
              error[0] = "cannot list " + dir + " under " + root + ": " + e;
            }
            return FileVisitResult.CONTINUE;
          }
        });
    return new Scan(counts[0], counts[1], counts[2], error[0]);
  }

  private Check inotify(long directories, int scanned) {
    String name = Checks.INOTIFY;
    if (scanned == 0) {
      return Check.skip(name, "no queue root could be read");
    }
    long limit;
    try {
      limit = Long.parseLong(Files.readString(maxUserWatches).strip());
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
