package dev.drainguard.check;

import static dev.drainguard.check.ChecksTest.line;
import static dev.drainguard.check.ChecksTest.statuses;
import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.lifecycle.ActionOutcome;
import dev.drainguard.lifecycle.LifecycleApiException;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.lifecycle.TerminationHook;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The api, hook and heartbeat lines, through {@link Checks} with a fake Auto Scaling port. */
class LifecycleChecksTest {

  @TempDir Path dir;

  final Fakes.Imds imds = new Fakes.Imds();
  final Fakes.Api api = new Fakes.Api();
  Fakes.Settings settings;

  @BeforeEach
  void setUp() throws IOException {
    settings =
        new Fakes.Settings(
            List.of(Files.createDirectories(dir.resolve("q"))),
            Files.writeString(dir.resolve("max_user_watches"), "8192"));
  }

  List<Check> run() {
    return new Checks(settings.build(), () -> imds, region -> api).run();
  }

  @Test
  void foundHook_showsItsTimeoutsDefaultResultAndTheHeartbeatInterval() {
    api.hooks =
        List.of(
            new TerminationHook(
                "hold-queues",
                Duration.ofSeconds(300),
                Duration.ofSeconds(30_000),
                LifecycleResult.CONTINUE));
    List<Check> checks = run();
    assertThat(line(checks, "api").detail())
        .isEqualTo(
            "Auto Scaling at "
                + Fakes.AUTOSCALING
                + " answered autoscaling:DescribeLifecycleHooks");
    Check hook = line(checks, "hook");
    assertThat(hook.status()).isEqualTo(Check.Status.PASS);
    // min(configured 5m, HeartbeatTimeout 5m / 3)
    assertThat(hook.detail())
        .isEqualTo(
            "hook=hold-queues asg=workers (asg from instance tag aws:autoscaling:groupName):"
                + " HeartbeatTimeout 5m, GlobalTimeout 8h20m, DefaultResult CONTINUE; heartbeat"
                + " every 1m40s");
  }

  @Test
  void twoHooks_failsListingThem_withTheHookNameFix() {
    api.hooks = List.of(Fakes.hook("a"), Fakes.hook("b"));
    List<Check> checks = run();
    assertThat(statuses(checks)).containsSubsequence("PASS api", "FAIL hook", "SKIP heartbeat");
    Check hook = line(checks, "hook");
    assertThat(hook.detail())
        .isEqualTo("asg=workers has 2 termination hooks (a, b): choose one with --hook-name");
    assertThat(hook.fix()).contains("set --hook-name (DRAINGUARD_HOOK_NAME) to one of: a, b");
    assertThat(line(checks, "heartbeat").detail())
        .isEqualTo("skipped: no termination hook to send it for");
  }

  @Test
  void twoHooksAndOneNamed_passes() {
    api.hooks = List.of(Fakes.hook("a"), Fakes.hook("b"));
    settings.hookName = Optional.of("b");
    Check hook = line(run(), "hook");
    assertThat(hook.status()).isEqualTo(Check.Status.PASS);
    assertThat(hook.detail()).startsWith("hook=b asg=workers");
  }

  // Issue 14: a missing hook is a state of the group, said plainly with the endpoint that was
  // asked, not an exception's message.
  @Test
  void noHook_failsWithTheCommandThatAddsOne() {
    api.hooks = List.of();
    Check hook = line(run(), "hook");
    assertThat(hook.status()).isEqualTo(Check.Status.FAIL);
    assertThat(hook.detail())
        .isEqualTo(
            "no termination hook on group workers: scale-in will not be held"
                + " (DescribeLifecycleHooks at http://127.0.0.1:1339 (from env"
                + " AWS_ENDPOINT_URL_AUTO_SCALING) lists no autoscaling:EC2_INSTANCE_TERMINATING"
                + " hook)");
    assertThat(hook.fix().orElseThrow())
        .startsWith(
            "add one: aws autoscaling put-lifecycle-hook --auto-scaling-group-name workers");
  }

  @Test
  void noHook_configuredHookName_stillTheNoHookLine() {
    api.hooks = List.of();
    settings.hookName = Optional.of("drain");
    Check hook = line(run(), "hook");
    assertThat(hook.status()).isEqualTo(Check.Status.FAIL);
    assertThat(hook.detail()).startsWith("no termination hook on group workers:");
  }

  @Test
  void noGroupFromTagsOrApi_failsTheHookWithTheAsgNameFix() {
    imds.tagGroup = Optional.empty();
    api.membership = Optional.empty();
    List<Check> checks = run();
    assertThat(line(checks, "api").detail())
        .endsWith("answered autoscaling:DescribeAutoScalingInstances");
    Check hook = line(checks, "hook");
    assertThat(hook.status()).isEqualTo(Check.Status.FAIL);
    assertThat(hook.detail()).contains("i-1 is in no Auto Scaling group");
    assertThat(hook.fix())
        .contains("set --asg-name (DRAINGUARD_ASG_NAME) if the instance belongs to a group");
  }

  @Test
  void deadlineMarginNotShorterThanTheGlobalTimeout_fails_becauseRunRefusesToStart() {
    // drainguard run exits 78 on this (Agent.start); a check that passed it would be wrong
    api.hooks =
        List.of(
            new TerminationHook(
                "h", Duration.ofSeconds(30), Duration.ofMinutes(50), LifecycleResult.ABANDON));
    settings.deadlineMargin = Duration.ofMinutes(50);
    Check hook = line(run(), "hook");
    assertThat(hook.status()).isEqualTo(Check.Status.FAIL);
    assertThat(hook.detail())
        .endsWith(
            "deadline-margin 50m is not shorter than GlobalTimeout, so drainguard run refuses to start");
    assertThat(hook.fix().orElseThrow()).startsWith("lower --deadline-margin below 50m");
  }

  @Test
  void describeHooksDenied_failsTheApiNamingTheAction_andSkipsTheHook() {
    api.hooksFail = Fakes.denied("autoscaling:DescribeLifecycleHooks");
    List<Check> checks = run();
    Check line = line(checks, "api");
    assertThat(line.status()).isEqualTo(Check.Status.FAIL);
    assertThat(line.detail())
        .startsWith("the role may not call autoscaling:DescribeLifecycleHooks: ");
    assertThat(line.fix().orElseThrow())
        .startsWith("allow autoscaling:DescribeLifecycleHooks in the instance role's policy");
    assertThat(statuses(checks)).containsSubsequence("FAIL api", "SKIP hook", "SKIP heartbeat");
  }

  @Test
  void describeInstancesDenied_namesThatAction() {
    imds.tagGroup = Optional.empty();
    api.describeFails = Fakes.denied("autoscaling:DescribeAutoScalingInstances");
    Check line = line(run(), "api");
    assertThat(line.status()).isEqualTo(Check.Status.FAIL);
    assertThat(line.detail())
        .startsWith("the role may not call autoscaling:DescribeAutoScalingInstances: ");
  }

  @Test
  void refusedCredentials_pointAtTheInstanceProfile() {
    api.hooksFail =
        new LifecycleApiException("HTTP 403 InvalidClientTokenId", "InvalidClientTokenId", null);
    Check line = line(run(), "api");
    assertThat(line.detail())
        .startsWith("credentials refused calling autoscaling:DescribeLifecycleHooks");
    assertThat(line.fix().orElseThrow()).contains("instance profile");
  }

  @Test
  void unreachableApi_pointsAtTheRouteAndEndpoint() {
    api.hooksFail =
        new LifecycleApiException("describe lifecycle hooks failed after 2 attempts", null, null);
    Check line = line(run(), "api");
    assertThat(line.status()).isEqualTo(Check.Status.FAIL);
    assertThat(line.detail())
        .isEqualTo(
            "autoscaling:DescribeLifecycleHooks failed: describe lifecycle hooks failed after 2 attempts");
    assertThat(line.fix().orElseThrow()).contains("--autoscaling-endpoint");
  }

  @Test
  void apiClientThatCannotBeBuilt_failsTheApi() {
    List<Check> checks =
        new Checks(
                settings.build(),
                () -> imds,
                region -> {
                  throw new IllegalArgumentException("no endpoint for region " + region);
                })
            .run();
    assertThat(line(checks, "api").status()).isEqualTo(Check.Status.FAIL);
    assertThat(line(checks, "api").detail()).contains("no endpoint for region eu-west-1");
    assertThat(statuses(checks)).containsSubsequence("FAIL api", "SKIP hook", "SKIP heartbeat");
  }

  @Test
  void probeHeartbeat_noActiveAction_provesThePermission() {
    settings.probeHeartbeat = true;
    List<Check> checks = run();
    Check line = line(checks, "heartbeat");
    assertThat(line.status()).isEqualTo(Check.Status.PASS);
    assertThat(line.detail())
        .isEqualTo(
            "autoscaling:RecordLifecycleActionHeartbeat allowed: Auto Scaling answered 'No"
                + " active Lifecycle Action' for hook=hold-queues asg=workers instance=i-1, an"
                + " answer it gives only after the permission check; nothing was extended");
    assertThat(api.calls)
        .containsExactly("hooks:workers", "heartbeat:hook=hold-queues asg=workers instance=i-1");
  }

  @Test
  void probeHeartbeat_accepted_warnsThatARealActionWasExtended() {
    settings.probeHeartbeat = true;
    api.heartbeat = ActionOutcome.ACCEPTED;
    Check line = line(run(), "heartbeat");
    assertThat(line.status()).isEqualTo(Check.Status.WARN);
    assertThat(line.detail()).contains("a termination action is active");
  }

  @ParameterizedTest
  @ValueSource(strings = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
  void probeHeartbeat_denied_failsNamingThePermission(String code) {
    settings.probeHeartbeat = true;
    api.heartbeatFails = new LifecycleApiException("HTTP 403 " + code, code, null);
    List<Check> checks = run();
    Check line = line(checks, "heartbeat");
    assertThat(line.status()).isEqualTo(Check.Status.FAIL);
    assertThat(line.detail())
        .startsWith("the role may not call autoscaling:RecordLifecycleActionHeartbeat");
    assertThat(line(checks, "api").status()).isEqualTo(Check.Status.PASS);
  }

  @Test
  void theRecordingPort_refusesToComplete() {
    RecordingActions recording = new RecordingActions(api);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                recording.complete(
                    new dev.drainguard.lifecycle.LifecycleHookRef("g", "h", "i-1"),
                    LifecycleResult.CONTINUE))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThat(api.calls).isEmpty();
  }
}
