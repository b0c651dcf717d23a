package dev.drainguard.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
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
    List<Check> out = new ArrayList<>();
    new QueueChecks(List.of(roots), watches, "drainguard").run(out);
    return out;
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
        .isEqualTo(root + " readable: 2 files, 15 bytes in 3 directories");
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
}
