package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.config.ConfigLoader;
import dev.drainguard.config.Setting;
import dev.drainguard.drain.Phase;
import dev.drainguard.lifecycle.TerminationHook;
import dev.drainguard.net.Sleeper;
import dev.drainguard.sim.Simulator;
import dev.drainguard.testing.MotoServer;
import dev.drainguard.testing.MutableClock;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;

/**
 * Issue 14: the agent and {@code check} configured for Auto Scaling only through {@code
 * AWS_ENDPOINT_URL_AUTO_SCALING} reach a real peer on loopback ({@code moto_server}, not this
 * project's simulator), with loopback-only on; {@code check} names the endpoint and where it came
 * from. IMDS is the simulator's, speaking for moto's instance. Skipped only when moto is absent.
 */
class MotoEndpointTest {

  private static final String GROUP = "moto-endpoint-workers";
  private static final String HOOK = "drain";

  private static MotoServer moto;
  private static Simulator imds;
  private static String instanceId;

  @TempDir Path dir;

  @BeforeAll
  static void start() throws IOException {
    moto = MotoServer.start(MotoEndpointTest.class, Path.of("target", "moto-endpoint.log"));
    AutoScalingClient setup = moto.setup();
    setup.createLaunchConfiguration(
        r -> r.launchConfigurationName(GROUP).imageId("ami-12345678").instanceType("t3.micro"));
    setup.createAutoScalingGroup(
        r ->
            r.autoScalingGroupName(GROUP)
                .launchConfigurationName(GROUP)
                .minSize(0)
                .maxSize(1)
                .desiredCapacity(1)
                .availabilityZones("us-east-1a"));
    setup.putLifecycleHook(
        r ->
            r.autoScalingGroupName(GROUP)
                .lifecycleHookName(HOOK)
                .lifecycleTransition("autoscaling:EC2_INSTANCE_TERMINATING")
                .heartbeatTimeout(300)
                .defaultResult("ABANDON"));
    instanceId =
        setup
            .describeAutoScalingGroups(r -> r.autoScalingGroupNames(GROUP))
            .autoScalingGroups()
            .get(0)
            .instances()
            .get(0)
            .instanceId();
    imds = Simulator.start(MutableClock.atNewYear());
    imds.addGroup(GROUP);
    imds.addInstance(GROUP, instanceId, "us-east-1", true);
  }

  @AfterAll
  static void stop() {
    if (imds != null) {
      imds.close();
    }
    if (moto != null) {
      moto.close();
    }
  }

  /** Nothing names an Auto Scaling endpoint but AWS_ENDPOINT_URL_AUTO_SCALING. */
  Map<String, String> env() {
    return Map.of(
        "AWS_ENDPOINT_URL_AUTO_SCALING", moto.endpoint().toString(),
        "AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.imdsEndpoint().toString(),
        "AWS_CONFIG_FILE", dir.resolve("no-aws-config").toString());
  }

  @Test
  void check_reachesMotoAndNamesTheEndpointAndItsSource() throws IOException {
    Path root = Files.createDirectories(dir.resolve("q"));
    CheckCommand command = new CheckCommand();
    command.env = env();
    command.maxUserWatches = Files.writeString(dir.resolve("max_user_watches"), "8192\n");
    CommandLine cl = new CommandLine(command);
    SettingOptions.addTo(cl.getCommandSpec());
    StringWriter out = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(out, true));

    int code = cl.execute("--loopback-only", "true", "--queue-root", root.toString());

    assertThat(code).as(out.toString()).isZero();
    assertThat(out.toString())
        .contains(
            "PASS  api         Auto Scaling at "
                + moto.endpoint()
                + " (from env AWS_ENDPOINT_URL_AUTO_SCALING) answered"
                + " autoscaling:DescribeLifecycleHooks")
        // moto's signature: GlobalTimeout 48h whatever the HeartbeatTimeout (the simulator and
        // AWS would say 8h20m), so this answer came from moto
        .contains("PASS  hook        hook=drain asg=" + GROUP)
        .contains("HeartbeatTimeout 5m, GlobalTimeout 48h, DefaultResult ABANDON");
    assertThat(imds.calls()).as("the simulator's Auto Scaling was not asked").isEmpty();
  }

  @Test
  void run_startsWithTheHookReadFromMoto() throws IOException {
    Path controlDir = Files.createTempDirectory("drainguard-ctl-");
    Map<Setting, List<String>> flags = new EnumMap<>(Setting.class);
    flags.put(Setting.QUEUE_ROOT, List.of(Files.createDirectories(dir.resolve("r")).toString()));
    flags.put(Setting.LOOPBACK_ONLY, List.of("true"));
    flags.put(Setting.IMDS_STARTUP_TIMEOUT, List.of("0s"));
    flags.put(Setting.CONTROL_SOCKET, List.of(controlDir.resolve("control.sock").toString()));
    try (Agent agent =
        Agent.start(
            new ConfigLoader(flags, env(), Optional.empty()).loadWithoutFile(),
            MotoServer.CREDENTIALS,
            MutableClock.atNewYear(),
            Sleeper.NONE,
            s -> {})) {

      assertThat(agent.status().phase()).isEqualTo(Phase.IN_SERVICE);
      assertThat(agent.status().ref().instanceId()).isEqualTo(instanceId);
      assertThat(agent.status().hook())
          .extracting(TerminationHook::name, TerminationHook::heartbeatTimeout)
          .containsExactly(HOOK, Duration.ofMinutes(5));
      assertThat(agent.status().hook().globalTimeout()).isEqualTo(Duration.ofHours(48));
    } finally {
      Files.deleteIfExists(controlDir.resolve("control.sock"));
      Files.deleteIfExists(controlDir);
    }
  }
}
