package dev.drainguard.cribl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CriblConfigWatcherTest {

  @TempDir Path home;
  Path outputs;
  final List<AutoResolution> heard = new CopyOnWriteArrayList<>();
  ScheduledExecutorService scheduler;

  @BeforeEach
  void setUp() throws IOException {
    outputs = home.resolve("local/cribl/outputs.yml");
    Files.createDirectories(outputs.getParent());
    Files.createDirectories(home.resolve("state/queues"));
    Files.writeString(
        outputs, "outputs:\n  splunk:\n    type: splunk_lb\n    onBackpressure: queue\n");
  }

  @AfterEach
  void tearDown() {
    if (scheduler != null) {
      scheduler.shutdownNow();
    }
  }

  private CriblConfigWatcher watcher() {
    AutoResolution initial =
        new AutoRoots(new CriblHome(home, Map.of()), List.of(), List.of(), 0).resolve();
    scheduler = Executors.newSingleThreadScheduledExecutor();
    return new CriblConfigWatcher(initial, scheduler, Duration.ofMillis(20), heard::add);
  }

  private void deploy(String yaml) throws IOException {
    // as a deployment does: the new file replaces the old one
    Path next = outputs.resolveSibling("outputs.yml.new");
    Files.writeString(next, yaml);
    Files.move(next, outputs, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  private static final String WITH_NEW_PQ =
      "outputs:\n  splunk:\n    type: splunk_lb\n    onBackpressure: queue\n"
          + "  syslog:\n    type: syslog\n    onBackpressure: queue\n    pqPath: ";

  @Test
  void nothingChanged_nothingIsHeard() {
    CriblConfigWatcher w = watcher();

    assertThat(w.check()).isFalse();
    assertThat(w.check()).isFalse();
    assertThat(heard).isEmpty();
    assertThat(w.current().rootPaths()).containsExactly(home.resolve("state/queues"));
  }

  /**
   * The agent resolves {@code auto} when it loads its configuration, then may retry IMDS and hook
   * discovery for minutes before it starts watching Cribl's files: a deployment in between must not
   * become the baseline the first check compares with.
   */
  @Test
  void aDeploymentBeforeTheWatcherIsMade_isNoticedByItsFirstCheck() throws IOException {
    AutoResolution atLoad =
        new AutoRoots(new CriblHome(home, Map.of()), List.of(), List.of(), 0).resolve();
    deploy(WITH_NEW_PQ + home.resolve("big-volume") + "\n");
    scheduler = Executors.newSingleThreadScheduledExecutor();
    CriblConfigWatcher w =
        new CriblConfigWatcher(atLoad, scheduler, Duration.ofMillis(20), heard::add);

    assertThat(w.check()).isTrue();
    assertThat(heard)
        .singleElement()
        .satisfies(r -> assertThat(r.rootPaths()).contains(home.resolve("big-volume")));
  }

  @Test
  void anOutputAddedWithAPqOnANewPath_isANewRoot() throws IOException {
    CriblConfigWatcher w = watcher();
    deploy(WITH_NEW_PQ + home.resolve("big-volume") + "\n");

    assertThat(w.check()).isTrue();

    assertThat(heard).hasSize(1);
    assertThat(heard.get(0).rootPaths())
        .containsExactlyInAnyOrder(home.resolve("state/queues"), home.resolve("big-volume"));
    assertThat(w.current()).isSameAs(heard.get(0));
    assertThat(w.check()).isFalse();
  }

  @Test
  void aChangeThatLeavesTheRootsAlone_isNotHeard() throws IOException {
    CriblConfigWatcher w = watcher();
    deploy(
        "outputs:\n  splunk:\n    type: splunk_lb\n    onBackpressure: queue\n    pqMode: always\n");

    assertThat(w.check()).isFalse();
    assertThat(heard).isEmpty();
  }

  @Test
  void aRootTheConfigurationNoLongerNames_staysWatchedUntilRestart() throws IOException {
    CriblConfigWatcher w = watcher();
    deploy(WITH_NEW_PQ + home.resolve("big-volume") + "\n");
    w.check();

    // the queue of the destination just removed may still hold data
    deploy("outputs:\n  splunk:\n    type: splunk_lb\n    onBackpressure: queue\n");

    assertThat(w.check()).isFalse();
    assertThat(w.current().rootPaths())
        .containsExactlyInAnyOrder(home.resolve("state/queues"), home.resolve("big-volume"));
    assertThat(w.current().inventory().buffers()).hasSize(1);
  }

  @Test
  void aMalformedDeployment_keepsEveryRoot_andSaysWhy() throws IOException {
    CriblConfigWatcher w = watcher();
    deploy("outputs:\n  splunk:\n   type: x\n  bad: [\n");

    assertThat(w.check()).isFalse();
    assertThat(w.current().rootPaths()).containsExactly(home.resolve("state/queues"));
    assertThat(w.current().fallback())
        .hasValueSatisfying(f -> assertThat(f).contains(outputs.toString() + ":"));
  }

  @Test
  void aConfigurationAppearingWhereThereWasNone_isRead() throws IOException {
    Path inputs = home.resolve("local/cribl/inputs.yml");
    CriblConfigWatcher w = watcher();
    Files.writeString(
        inputs,
        "inputs:\n  tcp:\n    type: tcp\n    pqEnabled: true\n    pq:\n      path: "
            + home.resolve("src-pq")
            + "\n");

    assertThat(w.check()).isTrue();
    assertThat(w.current().rootPaths()).contains(home.resolve("src-pq"));
  }

  @Test
  void started_itNoticesADeploymentOnItsSchedule() throws IOException {
    CriblConfigWatcher w = watcher();
    w.start();
    deploy(WITH_NEW_PQ + home.resolve("big-volume") + "\n");

    await().atMost(Duration.ofSeconds(10)).until(() -> !heard.isEmpty());
    assertThat(heard.get(0).rootPaths()).contains(home.resolve("big-volume"));
    w.close();
  }
}
