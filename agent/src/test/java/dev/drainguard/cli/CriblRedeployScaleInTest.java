package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.drainguard.aws.AwsCredentials;
import dev.drainguard.aws.CredentialsProvider;
import dev.drainguard.config.AgentConfig;
import dev.drainguard.config.ConfigLoader;
import dev.drainguard.config.Setting;
import dev.drainguard.cribl.CriblConfigWatcher;
import dev.drainguard.drain.Phase;
import dev.drainguard.net.Sleeper;
import dev.drainguard.queue.QueueRootSpec;
import dev.drainguard.queue.RootStatus;
import dev.drainguard.sim.ActionEnd;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The real agent against the simulator, with {@code queue-root auto}, on a Cribl worker whose
 * configuration keeps every queue in the default place when the agent starts. While it runs, the
 * leader deploys a new output whose persistent queue lives on a volume of its own, and that queue
 * already holds data: the agent must watch it from its next check of Cribl's configuration on, and
 * hold a scale-in until it drains. Before issue 19's redeploy handling, it was watched only after a
 * restart, and the instance went with the data.
 */
class CriblRedeployScaleInTest {

  static final Duration HT = Duration.ofSeconds(60);

  /** The check interval of Cribl's configuration in this test: the default is 10 s. */
  static final Duration CRIBL_EVERY = Duration.ofMillis(50);

  @TempDir Path home;
  Path outputs;
  Path volume;
  Path queued;
  ScaleInHarness h;
  final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  final Logger redeployLog = (Logger) LoggerFactory.getLogger(CriblRedeploys.class);
  final Logger configLog = (Logger) LoggerFactory.getLogger(CriblConfigWatcher.class);

  @BeforeEach
  void worker() throws IOException {
    outputs = home.resolve("local/cribl/outputs.yml");
    volume = home.resolve("pq-volume");
    Files.createDirectories(outputs.getParent());
    Files.createDirectories(home.resolve("state/queues"));
    Files.writeString(outputs, SPLUNK);
    logged.start();
    redeployLog.addAppender(logged);
    configLog.addAppender(logged);
  }

  @AfterEach
  void tearDown() {
    redeployLog.detachAppender(logged);
    configLog.detachAppender(logged);
    if (h != null) {
      h.close();
    }
  }

  private static final String SPLUNK =
      String.join(
          "\n", "outputs:", "  splunk:", "    type: splunk_lb", "    onBackpressure: queue", "");

  /** As the leader's deployment does: the new file replaces the old one. */
  private void deploy(String yaml) throws IOException {
    Path next = outputs.resolveSibling("outputs.yml.new");
    Files.writeString(next, yaml);
    Files.move(next, outputs, StandardCopyOption.REPLACE_EXISTING);
  }

  private AgentConfig start() {
    h = new ScaleInHarness(HT, Duration.ZERO);
    h.set(Setting.QUEUE_ROOT, "auto");
    AgentConfig cfg =
        new ConfigLoader(h.flags, Map.of("CRIBL_HOME", home.toString()), Optional.empty())
            .loadWithoutFile();
    h.agent =
        Agent.start(
            cfg,
            CredentialsProvider.fixed(AwsCredentials.of("test", "test", "fixed test keys")),
            h.clock,
            Sleeper.NONE,
            s -> {},
            Optional.of(ScaleInHarness.TICK),
            ScaleInHarness.DIED,
            Optional.of(CRIBL_EVERY));
    h.agents.add(h.agent);
    return cfg;
  }

  private java.util.stream.Stream<String> logs() {
    return List.copyOf(logged.list).stream().map(e -> e.getLevel() + " " + e.getFormattedMessage());
  }

  private boolean watched(Path root) {
    return h.status().queues().roots().stream().map(RootStatus::root).anyMatch(root::equals);
  }

  @Test
  void anOutputDeployedWhileRunning_withItsQueueOnANewVolume_holdsTheScaleInUntilItDrains()
      throws IOException {
    AgentConfig cfg = start();
    assertThat(cfg.queueRoots())
        .extracting(QueueRootSpec::root)
        .containsExactly(home.resolve("state/queues"));
    assertThat(h.status().queues().empty()).isTrue();

    // the new destination is unreachable: Cribl's worker process 0 queues for it at once
    queued = volume.resolve("0/syslog_siem/1736000000000.pq");
    Files.createDirectories(queued.getParent());
    Files.write(queued, new byte[2048]);
    deploy(
        SPLUNK
            + String.join(
                "\n",
                "  syslog_siem:",
                "    type: syslog",
                "    onBackpressure: queue",
                "    pqPath: " + volume,
                ""));

    h.awaitStatus(s -> watched(volume) && s.queues().totalBytes() == 2048);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                logs()
                    .anyMatch(
                        m ->
                            m.startsWith("WARN queue root added while running root=" + volume)
                                && m.contains("pqPath of output syslog_siem")));

    h.scaleInUntilHolding();
    h.advance(HT.multipliedBy(3));

    assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);
    assertThat(h.status().queues().totalBytes()).isEqualTo(2048);
    assertThat(h.calls(AgentScaleInTest.COMPLETE)).isEmpty();

    // the destination is back: Cribl drains the queue and removes its file
    Files.delete(queued);
    h.awaitStatus(s -> s.queues().empty());
    h.advance(Duration.ofSeconds(11));
    h.awaitStatus(s -> s.phase() == Phase.COMPLETED);
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE).map(ActionEnd::result))
        .contains("CONTINUE");
  }

  /**
   * The output is removed again by a later deployment while its queue still holds data: its root
   * stays watched (only a restart lets it go), and the scale-in is still held.
   */
  @Test
  void anOutputRemovedByALaterDeployment_keepsItsQueueWatched() throws IOException {
    start();
    queued = volume.resolve("0/syslog_siem/1736000000000.pq");
    Files.createDirectories(queued.getParent());
    Files.write(queued, new byte[512]);
    deploy(
        SPLUNK
            + "  syslog_siem:\n    type: syslog\n    onBackpressure: queue\n    pqPath: "
            + volume
            + "\n");
    h.awaitStatus(s -> watched(volume) && s.queues().totalBytes() == 512);

    deploy(SPLUNK);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> logs().anyMatch(m -> m.contains("no longer names root=" + volume)));
    h.scaleInUntilHolding();
    h.advance(HT.multipliedBy(2));

    assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);
    assertThat(watched(volume)).isTrue();
    assertThat(h.status().queues().totalBytes()).isEqualTo(512);
  }
}
