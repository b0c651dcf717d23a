package dev.drainguard.queue;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** probes/spool-bytes: the generic spool directory probe of probes/README.md. */
class SpoolBytesProbeScriptTest {

  private static final Path SCRIPT = ProbeScripts.script("spool-bytes");

  @TempDir Path spool;

  @BeforeEach
  void files() throws IOException {
    Files.write(spool.resolve("batch-1.dat"), new byte[1000]);
    Files.write(Files.createDirectories(spool.resolve("sub")).resolve("batch-2.dat"), new byte[24]);
    Files.write(spool.resolve("index"), new byte[300]);
    Files.write(spool.resolve("writer.lock"), new byte[7]);
  }

  @Test
  void countsEveryFileUnderTheDirectory() {
    assertThat(run(spool.toString()).bytes()).isEqualTo(1331);
  }

  @Test
  void excludedNamesAreNotCounted() {
    assertThat(run("--exclude", "index", "--exclude=*.lock", spool.toString()).bytes())
        .isEqualTo(1024);
  }

  @Test
  void onlyExcludedFilesLeft_zero() throws IOException {
    Files.delete(spool.resolve("batch-1.dat"));
    Files.delete(spool.resolve("sub/batch-2.dat"));
    assertThat(run("--exclude", "index", "--exclude", "*.lock", spool.toString()).bytes()).isZero();
  }

  @Test
  void missingDirectory_unknown() {
    ProbeScripts.Result r = run(spool.resolve("nope").toString());
    assertThat(r.code()).isEqualTo(3);
    assertThat(r.stderr()).contains("does not exist");
  }

  // Guards against calling a spool empty when part of it could not be looked at.
  @Test
  void unreadableSubdirectory_unknown() throws IOException {
    Assumptions.assumeFalse(
        "root".equals(System.getProperty("user.name")), "root reads any directory: not testable");
    Path sub = spool.resolve("sub");
    Files.setPosixFilePermissions(sub, PosixFilePermissions.fromString("---------"));
    try {
      ProbeScripts.Result r = run(spool.toString());
      assertThat(r.code()).isEqualTo(3);
      assertThat(r.stderr()).contains("cannot read");
    } finally {
      Files.setPosixFilePermissions(sub, PosixFilePermissions.fromString("rwx------"));
    }
  }

  @Test
  void badUsage_exit2() {
    assertThat(run().code()).isEqualTo(2);
    assertThat(run("--exclude").code()).isEqualTo(2);
  }

  private static ProbeScripts.Result run(String... args) {
    List<String> argv = new ArrayList<>(List.of(SCRIPT.toString()));
    argv.addAll(List.of(args));
    return ProbeScripts.run(argv);
  }
}
