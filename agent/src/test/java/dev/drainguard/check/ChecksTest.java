package dev.drainguard.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.imds.InstanceMetadata.TokenProbe;
import dev.drainguard.imds.TargetLifecycleState;
import dev.drainguard.net.EndpointRefusedException;
import dev.drainguard.queue.DrainedWhen;
import dev.drainguard.queue.Probe;
import dev.drainguard.queue.ProbeReading;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The order of the checks, the config and IMDS lines, and what is skipped when IMDS fails. */
class ChecksTest {

  @TempDir Path dir;

  final Fakes.Imds imds = new Fakes.Imds();
  final Fakes.Api api = new Fakes.Api();
  final List<String> regionsAsked = new ArrayList<>();
  Fakes.Settings settings;

  @BeforeEach
  void setUp() throws IOException {
    Path root = Files.createDirectories(dir.resolve("queues"));
    settings =
        new Fakes.Settings(
            List.of(root), Files.writeString(dir.resolve("max_user_watches"), "8192"));
  }

  List<Check> run() {
    return new Checks(
            settings.build(),
            () -> imds,
            region -> {
              regionsAsked.add(region);
              return api;
            })
        .run();
  }

  static List<String> statuses(List<Check> checks) {
    return checks.stream().map(c -> c.status() + " " + c.name()).toList();
  }

  static Check line(List<Check> checks, String name) {
    return checks.stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void healthySetup_everyCheckInOrder_heartbeatSkippedUnlessAskedFor() {
    List<Check> checks = run();
    assertThat(statuses(checks))
        .containsExactly(
            "PASS config",
            "PASS imds",
            "PASS group",
            "PASS api",
            "PASS hook",
            "SKIP heartbeat",
            "PASS queue-root",
            "PASS inotify",
            "PASS drained-when");
    assertThat(line(checks, "imds").detail())
        .isEqualTo("IMDSv2 at " + Fakes.IMDS + " answered: instance i-1, region eu-west-1");
    assertThat(line(checks, "group").detail())
        .isEqualTo(
            "target-lifecycle-state InService; asg=workers from instance tag"
                + " aws:autoscaling:groupName");
    assertThat(checks).allMatch(c -> c.fix().isEmpty());
    assertThat(regionsAsked).containsExactly("eu-west-1");
    assertThat(api.calls).containsExactly("hooks:workers");
  }

  @Test
  void configuredRegion_isUsedForTheApi_andSaidSo() {
    settings.region = Optional.of("us-west-2");
    List<Check> checks = run();
    assertThat(line(checks, "imds").detail()).endsWith("region us-west-2 (from --region)");
    assertThat(regionsAsked).containsExactly("us-west-2");
  }

  @Test
  void configFailed_isOneFailLine_andEverythingElseSkipped() {
    List<Check> checks = Checks.configFailed("invalid --quiet-period 'soon'");
    assertThat(statuses(checks))
        .containsExactly(
            "FAIL config",
            "SKIP imds",
            "SKIP group",
            "SKIP api",
            "SKIP hook",
            "SKIP heartbeat",
            "SKIP queue-root",
            "SKIP inotify",
            "SKIP probe",
            "SKIP drained-when");
    assertThat(checks.get(0).detail()).isEqualTo("invalid --quiet-period 'soon'");
    assertThat(checks.get(0).fix()).isPresent();
    assertThat(checks.get(1).detail()).isEqualTo("skipped: the configuration did not load");
  }

  @Test
  void tokenPutTimedOut_failsWithTheHopLimitHint_andSkipsWhatNeedsImds() {
    imds.probe = new TokenProbe(TokenProbe.Outcome.NO_ANSWER, "PUT sent, no answer within 2 s");
    List<Check> checks = run();
    Check line = line(checks, "imds");
    assertThat(line.status()).isEqualTo(Check.Status.FAIL);
    assertThat(line.detail()).contains("the token PUT timed out");
    assertThat(line.fix().orElseThrow())
        .startsWith("raise HttpPutResponseHopLimit to 2 if running in a container");
    assertThat(statuses(checks))
        .containsSubsequence(
            "FAIL imds",
            "SKIP group",
            "SKIP api",
            "SKIP hook",
            "SKIP heartbeat",
            "PASS queue-root");
    assertThat(line(checks, "hook").detail()).isEqualTo("skipped: IMDS did not answer");
    assertThat(regionsAsked).isEmpty();
  }

  @ParameterizedTest
  @CsvSource({"REJECTED, PUT answered HTTP 403", "FAILED, PUT failed: connection refused"})
  void tokenRefusedOrUnreachable_failsWithTheEndpointFix(TokenProbe.Outcome outcome, String why) {
    imds.probe = new TokenProbe(outcome, why);
    Check line = line(run(), "imds");
    assertThat(line.status()).isEqualTo(Check.Status.FAIL);
    assertThat(line.detail()).isEqualTo("IMDSv2 at " + Fakes.IMDS + ": " + why);
    assertThat(line.fix().orElseThrow()).contains("point --imds-endpoint");
  }

  @Test
  void imdsAdapterThatCannotBeBuilt_isAFailLine_notACrash() {
    List<Check> checks =
        new Checks(
                settings.build(),
                () -> {
                  throw new EndpointRefusedException(
                      "loopback-only mode refused the IMDS endpoint");
                },
                region -> api)
            .run();
    assertThat(line(checks, "imds").status()).isEqualTo(Check.Status.FAIL);
    assertThat(line(checks, "imds").detail()).contains("loopback-only mode refused");
  }

  @Test
  void tokenIssuedButInstanceIdUnreadable_fails() {
    imds.instanceIdFails = Fakes.Imds.down();
    Check line = line(run(), "imds");
    assertThat(line.status()).isEqualTo(Check.Status.FAIL);
    assertThat(line.detail()).contains("issued a token, then: IMDS GET");
  }

  @Test
  void instanceInNoGroup_failsTheGroup_andSkipsTheApiAndHook() {
    imds.state = TargetLifecycleState.NOT_IN_GROUP;
    List<Check> checks = run();
    Check group = line(checks, "group");
    assertThat(group.status()).isEqualTo(Check.Status.FAIL);
    assertThat(group.detail()).startsWith("instance i-1 is in no Auto Scaling group");
    assertThat(statuses(checks)).contains("SKIP api", "SKIP hook", "SKIP heartbeat");
    assertThat(api.calls).isEmpty();
  }

  @Test
  void terminationUnderway_warns_andTheHeartbeatProbeIsNotSent() {
    imds.state = TargetLifecycleState.TERMINATED;
    settings.probeHeartbeat = true;
    List<Check> checks = run();
    assertThat(line(checks, "group").status()).isEqualTo(Check.Status.WARN);
    assertThat(line(checks, "heartbeat").status()).isEqualTo(Check.Status.SKIP);
    assertThat(line(checks, "heartbeat").detail()).contains("would extend a real termination");
    assertThat(api.calls).noneMatch(c -> c.startsWith("heartbeat"));
  }

  @Test
  void standby_warns() {
    imds.state = TargetLifecycleState.STANDBY;
    Check group = line(run(), "group");
    assertThat(group.status()).isEqualTo(Check.Status.WARN);
    assertThat(group.detail()).startsWith("target-lifecycle-state Standby;");
  }

  @Test
  void groupName_saysWhereItComesFrom() {
    settings.groupName = Optional.of("configured");
    assertThat(line(run(), "group").detail()).endsWith("asg=configured from --asg-name");

    settings.groupName = Optional.empty();
    imds.tagGroup = Optional.empty();
    assertThat(line(run(), "group").detail())
        .endsWith("asg name not in instance metadata tags: asked of DescribeAutoScalingInstances");
  }

  @ParameterizedTest
  @CsvSource({"0, 0s", "90, 1m30s", "3000, 50m", "172800, 48h", "5400, 1h30m", "3661, 1h1m1s"})
  void format_spellsDurationsAsTheConfigFileDoes(long seconds, String expected) {
    assertThat(Checks.format(Duration.ofSeconds(seconds))).isEqualTo(expected);
  }

  /** A scheduled probe that always reads empty; only its name matters to the quiet check. */
  static Probe probe(String name) {
    return new Probe() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public ProbeReading read() {
        return ProbeReading.known(name, Instant.EPOCH, List.of());
      }

      @Override
      public String describe() {
        return "a fake";
      }
    };
  }

  @Test
  void quietPeriodShorterThanTheProbeInterval_warnsOnlyWhenAScheduledProbeDecides() {
    settings.quietPeriod = Duration.ofMillis(500);
    settings.probeInterval = Duration.ofSeconds(1);
    // only the files probe: it hears every change, no interval applies
    assertThat(run()).noneMatch(c -> c.name().equals("quiet"));

    settings.probes = List.of(probe("command"), probe("cribl"));
    Check quiet = line(run(), "quiet");
    assertThat(quiet.status()).isEqualTo(Check.Status.WARN);
    assertThat(quiet.detail())
        .startsWith(
            "quiet-period 500ms is shorter than probe-interval 1s: the command and cribl probes"
                + " are asked again only after the quiet period is over");

    // the command probe is shown but does not decide: its interval cannot end a quiet period
    settings.probes = List.of(probe("command"));
    settings.drainedWhen = DrainedWhen.parse("files");
    assertThat(run()).noneMatch(c -> c.name().equals("quiet"));

    settings.drainedWhen = DrainedWhen.ALL;
    settings.quietPeriod = Duration.ofSeconds(1);
    assertThat(run()).noneMatch(c -> c.name().equals("quiet"));
  }
}
