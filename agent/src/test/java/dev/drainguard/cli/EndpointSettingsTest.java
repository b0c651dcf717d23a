package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drainguard.aws.AwsCredentials;
import dev.drainguard.aws.CredentialsProvider;
import dev.drainguard.config.AgentConfig;
import dev.drainguard.config.ConfigLoader;
import dev.drainguard.config.Setting;
import dev.drainguard.drain.Phase;
import dev.drainguard.net.EndpointRefusedException;
import dev.drainguard.net.Sleeper;
import dev.drainguard.sim.Simulator;
import dev.drainguard.testing.MutableClock;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code drainguard run} and {@code check} configured through the AWS SDK's own endpoint settings,
 * with loopback-only on: the effective endpoint, and where it came from, is what is called, judged
 * and printed.
 */
class EndpointSettingsTest {

  static final String GROUP = "workers";
  static final String HOOK = "hold-queues";
  static final String INSTANCE = "i-0123456789abcdef0";

  @TempDir Path dir;

  final MutableClock clock = MutableClock.atNewYear();
  Simulator sim;
  Path controlDir;
  final Map<String, String> env = new HashMap<>();
  final Map<Setting, List<String>> flags = new EnumMap<>(Setting.class);
  Agent agent;

  @BeforeEach
  void setUp() throws IOException {
    sim = Simulator.start(clock);
    sim.addGroup(GROUP);
    sim.addInstance(GROUP, INSTANCE, "eu-west-1", true);
    sim.addTerminationHook(GROUP, HOOK, Duration.ofMinutes(5), "ABANDON");
    controlDir = Files.createTempDirectory("drainguard-ctl-");
    env.put("AWS_CONFIG_FILE", dir.resolve("no-aws-config").toString());
    env.put("AWS_EC2_METADATA_SERVICE_ENDPOINT", sim.imdsEndpoint().toString());
    flags.put(Setting.QUEUE_ROOT, List.of(Files.createDirectories(dir.resolve("q")).toString()));
    flags.put(Setting.LOOPBACK_ONLY, List.of("true"));
    flags.put(Setting.IMDS_STARTUP_TIMEOUT, List.of("0s"));
    flags.put(Setting.CONTROL_SOCKET, List.of(controlDir.resolve("control.sock").toString()));
  }

  @AfterEach
  void tearDown() throws IOException {
    if (agent != null) {
      agent.close();
    }
    sim.close();
    Files.deleteIfExists(controlDir.resolve("control.sock"));
    Files.deleteIfExists(controlDir);
  }

  AgentConfig config() {
    return new ConfigLoader(flags, env, Optional.empty()).loadWithoutFile();
  }

  Agent start() {
    agent =
        Agent.start(
            config(),
            CredentialsProvider.fixed(AwsCredentials.of("test", "test", "fixed test keys")),
            clock,
            Sleeper.NONE,
            s -> {});
    return agent;
  }

  // Issue 14: this exited 78 with "refused the Auto Scaling endpoint null".
  @Test
  void run_onlyAwsEndpointUrlAutoScaling_startsAndCallsIt() {
    env.put("AWS_ENDPOINT_URL_AUTO_SCALING", sim.autoScalingEndpoint().toString());

    start();

    assertThat(agent.status().phase()).isEqualTo(Phase.IN_SERVICE);
    assertThat(agent.status().hook().name()).isEqualTo(HOOK);
    assertThat(sim.calls("DescribeLifecycleHooks")).isNotEmpty();
  }

  @Test
  void run_noAutoScalingEndpoint_refusalNamesTheRegionalEndpointAndItsSource() {
    assertThatThrownBy(this::start)
        .isInstanceOf(EndpointRefusedException.class)
        .hasMessageStartingWith(
            "loopback-only mode refused the Auto Scaling endpoint"
                + " https://autoscaling.eu-west-1.amazonaws.com (from the AWS partition rules for"
                + " region eu-west-1)");
    assertThat(sim.calls()).isEmpty();
  }

  @Test
  void run_fipsAndNoEndpoint_refusalNamesTheFipsEndpointAndWhy() {
    env.put("AWS_USE_FIPS_ENDPOINT", "true");

    assertThatThrownBy(this::start)
        .isInstanceOf(EndpointRefusedException.class)
        .hasMessageContaining(
            "https://autoscaling-fips.eu-west-1.amazonaws.com (from the AWS partition rules for"
                + " region eu-west-1, FIPS from env AWS_USE_FIPS_ENDPOINT)");
  }

  /** {@code drainguard check} with the test's environment. */
  String check() {
    CheckCommand command = new CheckCommand();
    command.env = env;
    command.maxUserWatches = dir.resolve("max_user_watches");
    CommandLine cl = new CommandLine(command);
    SettingOptions.addTo(cl.getCommandSpec());
    StringWriter out = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(out, true));
    cl.execute("--loopback-only", "true", "--queue-root", flags.get(Setting.QUEUE_ROOT).get(0));
    return out.toString();
  }

  @Test
  void check_namesEachEndpointAndWhereItCameFrom() {
    env.put("AWS_ENDPOINT_URL_AUTO_SCALING", sim.autoScalingEndpoint().toString());

    String out = check();

    assertThat(out)
        .contains(
            "IMDSv2 at "
                + sim.imdsEndpoint()
                + " (from env AWS_EC2_METADATA_SERVICE_ENDPOINT) answered: instance "
                + INSTANCE)
        .contains(
            "Auto Scaling at "
                + sim.autoScalingEndpoint()
                + " (from env AWS_ENDPOINT_URL_AUTO_SCALING) answered"
                + " autoscaling:DescribeLifecycleHooks");
  }

  @Test
  void check_globalUrlNotOnLoopback_failLineNamesItAndItsSource() {
    env.put("AWS_ENDPOINT_URL", "https://autoscaling.example.test");

    String out = check();

    assertThat(out)
        .contains(
            "loopback-only mode refused the Auto Scaling endpoint"
                + " https://autoscaling.example.test (from env AWS_ENDPOINT_URL)");
    assertThat(sim.calls()).isEmpty();
  }
}
