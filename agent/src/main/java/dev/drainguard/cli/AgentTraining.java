package dev.drainguard.cli;

import dev.drainguard.aws.CredentialsChain;
import dev.drainguard.aws.CredentialsProvider;
import dev.drainguard.config.AgentConfig;
import dev.drainguard.config.ConfigLoader;
import dev.drainguard.config.Setting;
import dev.drainguard.drain.Phase;
import dev.drainguard.imds.HttpInstanceMetadata;
import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.net.RetryPolicy;
import dev.drainguard.sim.Simulator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The second part of the archive training (Java 17–24, where a class in the archive is only loaded
 * when it is used): a real agent, assembled as {@code drainguard run} assembles it, in service
 * against the built-in simulator on 127.0.0.1 for a few IMDS polls and one {@code status} through
 * its own control socket. What an idle agent loads at start (the AWS SDK's IMDS and Auto Scaling
 * clients, hook discovery, the queue watcher, the decision loop) then comes from the archive: a
 * faster start and fewer private pages. Nothing leaves 127.0.0.1 ({@code loopback-only} is on).
 */
final class AgentTraining {

  /** In service this long: the poller and the decision loop run their usual path a few times. */
  static final Duration IN_SERVICE = Duration.ofSeconds(3);

  private static final String GROUP = "training-workers";
  private static final String HOOK = "training-hook";
  private static final String INSTANCE = "i-0000000000000a1c5";
  private static final String REGION = "us-east-1";

  private AgentTraining() {}

  /** Runs an agent in {@code dir}; what went otherwise than expected. */
  static List<String> train(Path dir) throws IOException {
    List<String> failures = new ArrayList<>();
    Path queues = Files.createDirectories(dir.resolve("agent/queues/0/out-s3"));
    Path socket = dir.resolve("agent/control.sock");
    Clock clock = Clock.systemUTC();
    try (Simulator sim = Simulator.start(clock)) {
      sim.addGroup(GROUP);
      sim.addInstance(GROUP, INSTANCE, REGION, true);
      sim.addTerminationHook(GROUP, HOOK, Duration.ofMinutes(5), "ABANDON");
      Files.write(queues.resolve("00000001.pq"), new byte[4096]);
      // The instance profile's credentials through IMDS, as on EC2: the chain looks at no
      // environment, no system property and no profile file (none of the installer's), so that
      // what is archived is the path a worker takes.
      sim.setInstanceProfile(
          "training-role",
          "ASIATRAININGEXAMPLE",
          "training-secret",
          "training-session-token",
          clock.instant().plus(Duration.ofHours(6)).truncatedTo(ChronoUnit.SECONDS));
      AgentConfig cfg = config(sim, queues.getParent().getParent(), socket);
      CredentialsProvider credentials =
          new CredentialsChain(
              Map.of(
                  "AWS_SHARED_CREDENTIALS_FILE", dir.resolve("no-credentials").toString(),
                  "AWS_CONFIG_FILE", dir.resolve("no-config").toString()),
              key -> null,
              new HttpInstanceMetadata(
                  cfg.endpoints().imds(),
                  LoopbackGuard.of(true),
                  RetryPolicy.DEFAULT,
                  ThreadSleeper.INSTANCE),
              clock);
      try (Agent agent = Agent.start(cfg, credentials, clock, ThreadSleeper.INSTANCE, s -> {})) {
        ThreadSleeper.INSTANCE.sleep(IN_SERVICE);
        if (agent.status().phase() != Phase.IN_SERVICE) {
          failures.add("the training agent is " + agent.status().phase() + ", not in service");
        }
        int code = Main.execute(new String[] {"status", "--control-socket=" + socket});
        if (code != ArchiveTraining.OK) {
          failures.add("'status' against the training agent exited " + code + ", expected 0");
        }
      }
    }
    return failures;
  }

  private static AgentConfig config(Simulator sim, Path root, Path socket) {
    Map<Setting, List<String>> flags = new EnumMap<>(Setting.class);
    flags.put(Setting.CONTROL_SOCKET, List.of(socket.toString()));
    flags.put(Setting.QUEUE_ROOT, List.of(root.toString()));
    flags.put(Setting.IMDS_ENDPOINT, List.of(sim.imdsEndpoint().toString()));
    flags.put(Setting.AUTOSCALING_ENDPOINT, List.of(sim.autoScalingEndpoint().toString()));
    flags.put(Setting.REGION, List.of(REGION));
    flags.put(Setting.LOOPBACK_ONLY, List.of("true"));
    flags.put(Setting.IMDS_POLL_INTERVAL, List.of("1s"));
    flags.put(Setting.IMDS_STARTUP_TIMEOUT, List.of("10s"));
    return new ConfigLoader(flags, Map.of(), Optional.empty()).loadWithoutFile();
  }
}
