package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.drainguard.aws.AwsCredentials;
import dev.drainguard.aws.CredentialsProvider;
import dev.drainguard.config.ConfigLoader;
import dev.drainguard.config.Setting;
import dev.drainguard.drain.Phase;
import dev.drainguard.net.Sleeper;
import dev.drainguard.sim.ActionEnd;
import dev.drainguard.sim.Simulator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The end of a quiet period is evaluated when it comes, not on the loop's next tick: with a tick of
 * 10 s, a drained queue is still completed about one quiet period after the last file left (before
 * the fix: anywhere up to quiet period + 10 s).
 */
class QuietPeriodWakeTest {

  static final Duration SLOW_TICK = Duration.ofSeconds(10);
  static final Duration QUIET = Duration.ofSeconds(1);

  @TempDir Path dir;

  @Test
  void aDrainIsCompletedAtTheEndOfItsQuietPeriod_notAtTheNextTick() throws IOException {
    Path root = Files.createDirectories(dir.resolve("queues"));
    Files.write(root.resolve("queue.0"), new byte[512]);
    try (Simulator sim = Simulator.start(Clock.systemUTC())) {
      sim.addGroup("g");
      sim.addInstance("g", "i-1", "us-east-1", true);
      sim.addTerminationHook("g", "h", Duration.ofMinutes(1), "ABANDON");
      Map<Setting, List<String>> flags = new EnumMap<>(Setting.class);
      flags.put(Setting.QUEUE_ROOT, List.of(root.toString()));
      flags.put(Setting.IMDS_ENDPOINT, List.of(sim.imdsEndpoint().toString()));
      flags.put(Setting.AUTOSCALING_ENDPOINT, List.of(sim.autoScalingEndpoint().toString()));
      flags.put(Setting.LOOPBACK_ONLY, List.of("true"));
      flags.put(Setting.QUIET_PERIOD, List.of("1s"));
      flags.put(Setting.IMDS_POLL_INTERVAL, List.of("1s"));
      flags.put(Setting.CONTROL_SOCKET, List.of(dir.resolve("control.sock").toString()));
      try (Agent agent =
          Agent.start(
              new ConfigLoader(flags, Map.of(), Optional.empty()).loadWithoutFile(),
              CredentialsProvider.fixed(AwsCredentials.of("test", "test", "fixed test keys")),
              Clock.systemUTC(),
              Sleeper.NONE,
              s -> {},
              Optional.empty(),
              ScaleInHarness.DIED)) {
        sim.terminate("i-1");
        await()
            .atMost(SLOW_TICK.multipliedBy(3))
            .until(() -> agent.status().phase() == Phase.HOLDING);

        Instant drained = Instant.now();
        Files.delete(root.resolve("queue.0"));

        await().atMost(SLOW_TICK.multipliedBy(2)).until(() -> sim.actionEnd("i-1").isPresent());
        ActionEnd end = sim.actionEnd("i-1").orElseThrow();
        Duration took = Duration.between(drained, end.at());
        System.err.printf(
            "quiet-period wake: CONTINUE %d ms after the last file left (quiet period %d ms, tick"
                + " %d ms)%n",
            took.toMillis(), QUIET.toMillis(), SLOW_TICK.toMillis());
        assertThat(end.result()).isEqualTo("CONTINUE");
        assertThat(took).isBetween(QUIET, QUIET.plusSeconds(2));
      }
    }
  }
}
