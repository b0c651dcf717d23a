package dev.drainguard.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.drainguard.queue.QueueRootSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The queue-root lines and the inotify budget, on real temporary directories. */
class QueueChecksTest {

  @TempDir Path dir;

  Path root;
  Path watches;

  @BeforeEach
  void setUp() throws IOException {
    root = Files.createDirectories(dir.resolve("queues"));
    watches = dir.resolve("max_user_watches");
    Files.writeString(watches, "8192\n");
  }

  List<Check> run(Path... roots) {
    return run(Arrays.stream(roots).map(r -> new QueueRootSpec(r, List.of(), 0)).toList());
  }

  List<Check> run(List<QueueRootSpec> specs) {
    List<Check> out = new ArrayList<>();
    new QueueChecks(specs, watches, "drainguard").run(out);
    return out;
  }

  /** The lines of {@code root} under {@code globs} and {@code residual}, inotify line excluded. */
  List<Check> lines(long residual, String... globs) {
    List<Check> out = run(List.of(new QueueRootSpec(root, List.of(globs), residual)));
    return out.subList(0, out.size() - 1);
  }

  /** {@code n} directories under {@code root}, the root included. */
  void directories(int n) throws IOException {
    for (int i = 1; i < n; i++) {
      Files.createDirectories(root.resolve("d" + i));
    }
  }

  @Test
  void readableRoot_passesWithWhatItHolds() throws IOException {
    Files.createDirectories(root.resolve("out/inputs"));
    Files.write(root.resolve("out/q.0"), new byte[10]);
    Files.write(root.resolve("out/inputs/q.1"), new byte[5]);
    List<Check> out = run(root);
    assertThat(out.get(0).status()).isEqualTo(Check.Status.PASS);
    assertThat(out.get(0).detail())
        .isEqualTo(
            root
                + " readable: 2 files, 15 bytes counted; nothing ignored (no ignore globs); 3"
                + " directories; reads as holding data (residual 0 bytes)");
    assertThat(out.get(1).detail())
        .isEqualTo("3 directories to watch under 1 queue root, fs.inotify.max_user_watches 8192");
  }

  @Test
  void missingRoot_failsWithInstallD() {
    Path missing = dir.resolve("missing");
    List<Check> out = run(missing);
    assertThat(out.get(0).status()).isEqualTo(Check.Status.FAIL);
    assertThat(out.get(0).detail()).isEqualTo(missing + " does not exist");
    assertThat(out.get(0).fix().orElseThrow()).startsWith("create it: install -d " + missing);
    assertThat(out.get(1).status()).isEqualTo(Check.Status.SKIP);
  }

  @Test
  void danglingLink_andRegularFile_fail() throws IOException {
    Path dangling = Files.createSymbolicLink(dir.resolve("link"), dir.resolve("gone"));
    Path file = Files.writeString(dir.resolve("file"), "x");
    List<Check> out = run(dangling, file, root);
    assertThat(out.get(0).detail()).isEqualTo(dangling + " is a symbolic link to nothing");
    assertThat(out.get(1).detail()).isEqualTo(file + " is not a directory");
    assertThat(out.get(2).status()).isEqualTo(Check.Status.PASS);
    // only the readable root counts toward the watch budget
    assertThat(out.get(3).detail()).startsWith("1 directory to watch under 1 queue root");
  }

  @Test
  void unreadableRootOrSubdirectory_fails() throws IOException {
    Path sub = Files.createDirectories(root.resolve("sub"));
    Files.setPosixFilePermissions(sub, PosixFilePermissions.fromString("---------"));
    try {
      assumeFalse(
          Files.isReadable(sub),
          "running as root: chmod 000 does not stop root from reading; the missing, dangling and"
              + " not-a-directory tests cover the FAIL line");
      Check line = run(root).get(0);
      assertThat(line.status()).isEqualTo(Check.Status.FAIL);
      assertThat(line.detail()).startsWith("cannot read " + sub);
      assertThat(line.fix().orElseThrow()).contains("setfacl -R -m u:drainguard:rX");
    } finally {
      Files.setPosixFilePermissions(sub, PosixFilePermissions.fromString("rwx------"));
    }
  }

  @ParameterizedTest(name = "{0} directories, limit {1}: {2}")
  @CsvSource({"4, 8, PASS", "5, 8, WARN", "8, 8, WARN", "9, 8, FAIL"})
  void inotifyBudget_warnsOverHalf_andFailsOverTheLimit(int dirs, int limit, Check.Status status)
      throws IOException {
    directories(dirs);
    Files.writeString(watches, limit + "\n");
    Check line = run(root).get(1);
    assertThat(line.status()).isEqualTo(status);
    if (status != Check.Status.PASS) {
      assertThat(line.fix().orElseThrow())
          .isEqualTo(
              "raise it: sysctl -w fs.inotify.max_user_watches=524288 and persist it in"
                  + " /etc/sysctl.d/90-drainguard.conf");
    }
  }

  @Test
  void inotifyOverTheLimit_saysTheWatcherCannotRegisterThemAll() throws IOException {
    directories(3);
    Files.writeString(watches, "2");
    assertThat(run(root).get(1).detail())
        .isEqualTo(
            "3 directories to watch under 1 queue root, more than fs.inotify.max_user_watches 2:"
                + " the queue watcher cannot register them all and walks the root every second"
                + " instead");
  }

  @Test
  void inotifyBudget_addsUpEveryRoot() throws IOException {
    Path other = Files.createDirectories(dir.resolve("other/a"));
    directories(2);
    Check line = run(root, other.getParent()).get(2);
    assertThat(line.detail()).startsWith("4 directories to watch under 2 queue roots");
  }

  @Test
  void unreadableLimit_warns() throws IOException {
    Files.delete(watches);
    Check line = run(root).get(1);
    assertThat(line.status()).isEqualTo(Check.Status.WARN);
    assertThat(line.detail()).startsWith("cannot read fs.inotify.max_user_watches from " + watches);
  }

  @Test
  void ignoreGlobs_splitCountedFromIgnored_asTheWatcherMatchesThem() throws IOException {
    Files.createDirectories(root.resolve("out"));
    Files.write(root.resolve("out/q.0"), new byte[10]);
    Files.write(root.resolve("out/q.lock"), new byte[3]);
    // '*.lock' does not cross '/': it matches nothing in out/, so both files count
    Files.write(root.resolve("top.lock"), new byte[4]);

    List<Check> out = lines(0, "*.lock");

    assertThat(out).hasSize(1);
    assertThat(out.get(0).status()).isEqualTo(Check.Status.PASS);
    assertThat(out.get(0).detail())
        .isEqualTo(
            root
                + " readable: 2 files, 13 bytes counted; 1 file, 4 bytes ignored (*.lock); 2"
                + " directories; reads as holding data (residual 0 bytes)");
  }

  @Test
  void globsThatIgnoreEveryFilePresent_warnWithExamples() throws IOException {
    // the mistake this catches: a glob meant for lock files that matches the queue data too
    Files.createDirectories(root.resolve("out"));
    for (int i = 0; i < 5; i++) {
      Files.write(root.resolve("out/q." + i), new byte[100]);
    }

    List<Check> out = lines(0, "**");

    assertThat(out.get(0).detail())
        .contains("0 files, 0 bytes counted; 5 files, 500 bytes ignored (**)")
        .endsWith("reads as empty");
    assertThat(out).hasSize(2);
    Check warn = out.get(1);
    assertThat(warn.status()).isEqualTo(Check.Status.WARN);
    assertThat(warn.name()).isEqualTo("queue-root");
    assertThat(warn.detail())
        .startsWith(
            root + ": the ignore globs match every file present, 5 files, 500 bytes (out/q.")
        .contains(", 2 more): nothing written under these names ever counts as queued");
    assertThat(warn.fix().orElseThrow()).contains("narrow the globs");
  }

  @Test
  void globsWithNoFilePresent_orWithOneCountedFile_doNotWarn() throws IOException {
    assertThat(lines(0, "**")).hasSize(1);
    Files.write(root.resolve("index"), new byte[1]);
    Files.write(root.resolve("data.0"), new byte[1]);
    assertThat(lines(0, "index")).hasSize(1);
  }

  @ParameterizedTest(name = "residual {0}: {1} line(s)")
  @CsvSource({"0, 1", "67108863, 1", "67108864, 2", "1073741824, 2"})
  void aResidualOf64MiBOrMore_warns(long residual, int lines) {
    List<Check> out = lines(residual);
    assertThat(out).hasSize(lines);
    if (lines == 2) {
      assertThat(out.get(1).status()).isEqualTo(Check.Status.WARN);
      assertThat(out.get(1).detail())
          .startsWith(
              root
                  + ": residual allowance "
                  + residual
                  + " bytes ("
                  + (residual >> 20)
                  + " MiB): while the counted files total at most that, the root reads as empty");
      assertThat(out.get(1).fix().orElseThrow()).contains("--residual-bytes");
    }
  }

  @Test
  void countedBytesWithinTheResidual_readAsEmpty() throws IOException {
    Files.write(root.resolve("q.qi"), new byte[15]);
    assertThat(lines(1024).get(0).detail())
        .endsWith("; reads as empty (15 bytes within the residual 1024 bytes)");
    assertThat(lines(14).get(0).detail()).endsWith("; reads as holding data (residual 14 bytes)");
  }

  @Test
  void symlinkedDirectoriesUnderARoot_areNotCounted_andWarn() throws IOException {
    Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
    Files.write(elsewhere.resolve("q.0"), new byte[50]);
    Files.createSymbolicLink(root.resolve("out-1"), elsewhere);
    Files.createSymbolicLink(root.resolve("out-2"), elsewhere);
    // a link to a file is not counted either, but it is no directory the watcher misses
    Files.createSymbolicLink(root.resolve("file-link"), elsewhere.resolve("q.0"));

    List<Check> out = lines(0);

    assertThat(out.get(0).detail())
        .startsWith(root + " readable: 0 files, 0 bytes counted;")
        .contains("; 1 directory; reads as empty");
    assertThat(out).hasSize(2);
    assertThat(out.get(1).status()).isEqualTo(Check.Status.WARN);
    assertThat(out.get(1).detail())
        .startsWith(root + ": 2 symbolic links to directories (out-")
        .endsWith("), not followed: files under them are neither watched nor counted");
    assertThat(out.get(1).fix().orElseThrow()).contains("--queue-root of its own");
  }

  @Test
  void aRootThatIsItselfALinkToADirectory_isWalked_asTheWatcherWalksIt() throws IOException {
    Files.write(root.resolve("q.0"), new byte[7]);
    Path link = Files.createSymbolicLink(dir.resolve("link"), root);
    List<Check> out = run(link);
    assertThat(out.get(0).detail()).startsWith(link + " readable: 1 file, 7 bytes counted;");
    assertThat(out).hasSize(2);
  }

  @Test
  void maxUserWatches_isReadFromTheRealProcFile_asCatReadsIt() throws Exception {
    // Files.readString on /proc/sys/fs/inotify/max_user_watches returned "1" for 192540: the file
    // reports size 0 and the kernel answers a read past offset 0 with end-of-file
    Path proc = QueueChecks.MAX_USER_WATCHES;
    assumeTrue(Files.isReadable(proc), "no /proc/sys/fs/inotify here (not Linux)");
    Process cat = new ProcessBuilder("cat", proc.toString()).start();
    String byCat = new String(cat.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    assertThat(cat.waitFor()).isZero();

    assertThat(QueueChecks.readLimit(proc)).isEqualTo(Long.parseLong(byCat.strip()));

    watches = proc;
    assertThat(run(root).get(1).detail())
        .isEqualTo(
            "1 directory to watch under 1 queue root, fs.inotify.max_user_watches "
                + byCat.strip());
  }
}
