package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.aws.AwsCredentials;
import dev.drainguard.aws.CredentialsProvider;
import dev.drainguard.config.AgentConfig;
import dev.drainguard.config.ConfigLoader;
import dev.drainguard.config.Setting;
import dev.drainguard.drain.Phase;
import dev.drainguard.net.Sleeper;
import dev.drainguard.queue.QueueRootSpec;
import dev.drainguard.sim.ActionEnd;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real agent against the simulator, on a Cribl worker whose syslog destination keeps its
 * persistent queue on a volume of its own ({@code pqPath}), outside {@code
 * $CRIBL_HOME/state/queues}: with {@code queue-root auto} resolved at start, that queue holds the
 * termination until it drains. Configuration only: nothing but the settings differs from any other
 * run.
 */
class CriblAutoScaleInTest {

  static final Duration HT = Duration.ofSeconds(60);

  @TempDir Path home;
  Path volume;
  Path queued;
  ScaleInHarness h;

  @BeforeEach
  void worker() throws IOException {
    volume = home.resolve("pq-volume");
    Path outputs = home.resolve("local/cribl/outputs.yml");
    Files.createDirectories(outputs.getParent());
    Files.createDirectories(home.resolve("state/queues"));
    Files.writeString(
        outputs,
        String.join(
            "\n",
            "outputs:",
            "  syslog_siem:",
            "    type: syslog",
            "    protocol: tcp",
            "    host: siem.example.internal",
            "    port: 514",
            "    onBackpressure: queue",
            "    pqMode: error",
            "    pqPath: " + volume,
            ""));
    // what Cribl's worker process 0 leaves while the SIEM is unreachable
    queued = volume.resolve("0/syslog_siem/1736000000000.pq");
    Files.createDirectories(queued.getParent());
    Files.write(queued, new byte[2048]);
  }

  @AfterEach
  void tearDown() {
    if (h != null) {
      h.close();
    }
  }

  private AgentConfig start(String queueRoot) {
    h = new ScaleInHarness(HT, Duration.ZERO);
    h.set(Setting.QUEUE_ROOT, queueRoot);
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
            ScaleInHarness.DIED);
    h.agents.add(h.agent);
    return cfg;
  }

  @Test
  void withAuto_aQueueOnACustomPqPath_holdsTheTermination_untilItDrains() throws IOException {
    AgentConfig cfg = start("auto");
    assertThat(cfg.queueRoots().stream().map(QueueRootSpec::root))
        .containsExactlyInAnyOrder(volume, home.resolve("state/queues"));
    // status lists Cribl's buffers, each with the root that covers it (issue 19)
    MainTest.Run status = MainTest.execute("status", "--control-socket", h.socket().toString());
    assertThat(status.out())
        .contains("cribl")
        .contains("syslog_siem")
        .contains("covered by " + volume);

    h.scaleInUntilHolding();
    h.advance(HT.multipliedBy(3));

    assertThat(h.status().phase()).isEqualTo(Phase.HOLDING);
    assertThat(h.status().queues().totalBytes()).isEqualTo(2048);
    assertThat(h.calls(AgentScaleInTest.COMPLETE)).isEmpty();

    // the SIEM is back: Cribl drains the queue and removes its file
    Files.delete(queued);
    h.awaitStatus(s -> s.queues().empty());
    h.advance(Duration.ofSeconds(11));
    h.awaitStatus(s -> s.phase() == Phase.COMPLETED);
    assertThat(h.sim.actionEnd(ScaleInHarness.INSTANCE).map(ActionEnd::result))
        .contains("CONTINUE");
  }

  /** What issue 19 is about: the default root alone never sees that queue. */
  @Test
  void withTodaysDefaultRootOnly_theSameQueueIsNotSeen_andTheInstanceGoes() {
    start(home.resolve("state/queues").toString());

    h.scaleInUntilHolding();
    h.advance(Duration.ofSeconds(15));

    h.awaitStatus(s -> s.phase() == Phase.COMPLETED);
    assertThat(Files.exists(queued)).isTrue();
  }
}
