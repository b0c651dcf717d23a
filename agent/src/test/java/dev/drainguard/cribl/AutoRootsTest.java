package dev.drainguard.cribl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.drainguard.queue.QueueRootSpec;
import dev.drainguard.queue.QueueSnapshot;
import dev.drainguard.queue.QueueWatcher;
import dev.drainguard.queue.RootStatus;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AutoRootsTest {

  private static final List<String> GLOBAL = List.of("**/*.lock");

  private static QueueRootSpec spec(List<QueueRootSpec> roots, Path dir) {
    return roots.stream()
        .filter(r -> r.root().equals(dir))
        .findFirst()
        .orElseThrow(() -> new AssertionError(dir + " not in " + roots));
  }

  @Test
  void everyQueueAndStagingDirectoryOfTheWorker_becomesARoot_withTheGlobalRules() {
    CriblHome home = Fixtures.home("worker");
    AutoResolution r = new AutoRoots(home, List.of(), GLOBAL, 512).resolve();

    Path queues = home.home().resolve("state/queues");
    Path staging = home.home().resolve("state/outputs/staging");
    assertThat(r.fallback()).isEmpty();
    assertThat(r.rootPaths())
        .containsExactlyInAnyOrder(
            Path.of("/data/cribl-pq"),
            Path.of("/data/relay-pq"),
            Path.of("/data/source-pq"),
            staging,
            queues);
    assertThat(r.discovered()).containsExactlyInAnyOrderElementsOf(r.rootPaths());
    assertThat(spec(r.roots(), queues).ignoreGlobs()).containsExactly("**/*.lock");
    assertThat(spec(r.roots(), queues).residualBytes()).isEqualTo(512);
    // Cribl's open-file inventory stays in a drained staging directory: it must not count
    assertThat(spec(r.roots(), staging).ignoreGlobs())
        .containsExactly("**/*.lock", AutoRoots.STAGING_INVENTORY);
    // the dead letters and the disabled source add nothing beyond these
    assertThat(r.inventory().buffers()).hasSize(8);
  }

  @Test
  void aDirectoryAtOrUnderAnExplicitRoot_isLeftToIt() {
    CriblHome home = Fixtures.home("worker");
    QueueRootSpec data = new QueueRootSpec(Path.of("/data"), List.of("*.idx"), 4096);
    AutoResolution r = new AutoRoots(home, List.of(data), GLOBAL, 0).resolve();

    assertThat(r.roots().get(0)).isEqualTo(data);
    assertThat(r.rootPaths())
        .containsExactly(
            Path.of("/data"),
            home.home().resolve("state/outputs/staging"),
            home.home().resolve("state/queues"));
    assertThat(r.discovered()).doesNotContain(Path.of("/data"));
  }

  @Test
  void aDiscoveredRootAboveAnExplicitOne_ignoresThatSubtree_soTheExplicitRulesJudgeIt() {
    CriblHome home = Fixtures.home("worker");
    Path queues = home.home().resolve("state/queues");
    QueueRootSpec one =
        new QueueRootSpec(queues.resolve("0/splunk_lb_default_pq"), List.of(), 65536);
    AutoResolution r = new AutoRoots(home, List.of(one), GLOBAL, 0).resolve();

    List<String> globs = spec(r.roots(), queues).ignoreGlobs();
    assertThat(globs).containsExactly("**/*.lock", "0/splunk_lb_default_pq/**");
    var m = FileSystems.getDefault().getPathMatcher("glob:" + globs.get(1));
    assertThat(m.matches(Path.of("0/splunk_lb_default_pq/1.pq"))).isTrue();
    assertThat(m.matches(Path.of("0/splunk_lb_default_pq/a/b.pq"))).isTrue();
    assertThat(m.matches(Path.of("0/syslog/1.pq"))).isFalse();
  }

  @Test
  void aMalformedFile_keepsTodaysDefault_plusWhatTheReadableFilesName_andSaysWhy() {
    CriblHome home = Fixtures.home("malformed");
    AutoResolution r = new AutoRoots(home, List.of(), List.of(), 0).resolve();

    assertThat(r.rootPaths())
        .containsExactlyInAnyOrder(home.home().resolve("state/queues"), Path.of("/data/source-pq"));
    assertThat(r.fallback())
        .hasValueSatisfying(
            f ->
                assertThat(f)
                    .contains(home.home().resolve("local/cribl/outputs.yml") + ":9:")
                    .contains("keeps today's default " + home.home().resolve("state/queues")));
  }

  @Test
  void noConfiguration_keepsTodaysDefault_andSaysWhy() {
    CriblHome home = Fixtures.home("nocfg");
    AutoResolution r = new AutoRoots(home, List.of(), List.of(), 0).resolve();

    assertThat(r.rootPaths()).containsExactly(home.home().resolve("state/queues"));
    assertThat(r.fallback())
        .hasValueSatisfying(f -> assertThat(f).startsWith("no Cribl configuration at "));
  }

  @Test
  void todaysDefault_isLeftOut_whenNoQueueUsesItAndItDoesNotExist(@TempDir Path dir)
      throws IOException {
    Files.createDirectories(dir.resolve("local/cribl"));
    Files.writeString(
        dir.resolve("local/cribl/outputs.yml"),
        "outputs:\n  tcp:\n    type: tcpjson\n    onBackpressure: queue\n    pqPath: "
            + dir.resolve("pq-volume")
            + "\n");
    CriblHome home = new CriblHome(dir, Map.of());

    assertThat(new AutoRoots(home, List.of(), List.of(), 0).resolve().rootPaths())
        .containsExactly(dir.resolve("pq-volume"));

    // it may hold the queues of destinations removed since: once it exists, it is watched
    Files.createDirectories(dir.resolve("state/queues"));
    assertThat(new AutoRoots(home, List.of(), List.of(), 0).resolve().rootPaths())
        .containsExactly(dir.resolve("pq-volume"), dir.resolve("state/queues"));
  }

  @Test
  void aConfigurationWithoutBuffers_stillHasARoot(@TempDir Path dir) throws IOException {
    // the queue watcher needs one root; an empty list would also read as "nothing queued"
    Files.createDirectories(dir.resolve("local/cribl"));
    Files.writeString(
        dir.resolve("local/cribl/outputs.yml"), "outputs:\n  d:\n    type: devnull\n");

    AutoResolution r =
        new AutoRoots(new CriblHome(dir, Map.of()), List.of(), List.of(), 0).resolve();

    assertThat(r.rootPaths()).containsExactly(dir.resolve("state/queues"));
    assertThat(r.fallback()).isEmpty();
  }

  @Test
  void escape_makesEveryGlobCharacterLiteral() {
    assertThat(AutoRoots.escape(Path.of("a{b,c}/d*[e]?"))).isEqualTo("a\\{b\\,c\\}/d\\*\\[e\\]\\?");
    var m =
        FileSystems.getDefault()
            .getPathMatcher("glob:" + AutoRoots.escape(Path.of("a{b}")) + "/**");
    assertThat(m.matches(Path.of("a{b}/x"))).isTrue();
    assertThat(m.matches(Path.of("ab/x"))).isFalse();
  }

  /**
   * Through the real watcher: a staging root whose only files are Cribl's open-file inventories is
   * empty; a staged file still to upload is not. Guards against holding every drained worker until
   * the deadline, and against the inventory glob hiding real data.
   */
  @Test
  void aStagingRoot_isEmptyWithOnlyCriblsInventory_andNotWithAStagedFile(@TempDir Path dir)
      throws IOException {
    Files.createDirectories(dir.resolve("local/cribl"));
    Files.writeString(
        dir.resolve("local/cribl/outputs.yml"),
        "outputs:\n  s3:\n    type: s3\n    bucket: \"'b'\"\n  gcs:\n    type: google_cloud_storage\n"
            + "    stagePath: "
            + dir.resolve("flat-stage")
            + "\n    addIdToStagePath: false\n");
    Path staging = dir.resolve("state/outputs/staging");
    Path flat = dir.resolve("flat-stage");
    Files.createDirectories(staging.resolve("s3"));
    Files.createDirectories(flat);
    Files.writeString(staging.resolve("s3/CriblOpenFiles.0.json"), "{\"files\":[]}");
    Files.writeString(flat.resolve("CriblOpenFiles.1.json"), "{\"files\":[]}");
    Files.createDirectories(dir.resolve("state/queues"));
    AutoResolution r =
        new AutoRoots(new CriblHome(dir, Map.of()), List.of(), List.of(), 0).resolve();
    assertThat(r.rootPaths()).contains(staging, flat);

    try (QueueWatcher w = new QueueWatcher(r.roots(), Clock.systemUTC(), s -> {})) {
      w.start();
      await().atMost(Duration.ofSeconds(10)).until(() -> w.snapshot().empty());

      Path tmp = staging.resolve("s3/2026/01/01/CriblOut.abc.json.tmp");
      Files.createDirectories(tmp.getParent());
      Files.write(tmp, new byte[100]);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> !w.snapshot().empty() && files(w.snapshot(), staging) == 1);
    }
  }

  private static long files(QueueSnapshot s, Path root) {
    return s.roots().stream().filter(r -> r.root().equals(root)).mapToLong(RootStatus::files).sum();
  }
}
