package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drainguard.sim.ApiCall;
import dev.drainguard.sim.Simulator;
import dev.drainguard.testing.CriblApiStub;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code drainguard check} end to end, against the simulator over loopback. */
class CheckCommandTest {

  static final String GROUP = "workers";
  static final String HOOK = "hold-queues";
  static final String INSTANCE = "i-0123456789abcdef0";

  @TempDir Path dir;

  Simulator sim;
  Path root;
  Path watches;

  record Run(int code, String out, String err) {
    /** The output line that starts with {@code status} and the check's name. */
    String line(String status, String name) {
      String prefix = String.format("%-4s  %-10s  ", status, name);
      return out.lines()
          .filter(l -> l.startsWith(prefix))
          .findFirst()
          .orElseThrow(() -> new AssertionError("no line '" + prefix + "' in:\n" + out + err));
    }

    /** The fix printed under the line of {@code name}. */
    String fixOf(String name) {
      List<String> lines = out.lines().toList();
      for (int i = 0; i + 1 < lines.size(); i++) {
        if (lines.get(i).substring(6).startsWith(name + " ")
            && lines.get(i + 1).strip().startsWith("fix: ")) {
          return lines.get(i + 1).strip();
        }
      }
      throw new AssertionError("no fix under '" + name + "' in:\n" + out);
    }
  }

  @BeforeEach
  void setUp() throws IOException {
    sim = Simulator.start(Clock.systemUTC());
    root = Files.createDirectories(dir.resolve("queues"));
    Files.createDirectories(root.resolve("out-1"));
    Files.write(root.resolve("out-1/queue.0"), new byte[100]);
    watches = Files.writeString(dir.resolve("max_user_watches"), "8192\n");
  }

  @AfterEach
  void tearDown() {
    sim.close();
  }

  void healthyGroup() {
    sim.addGroup(GROUP);
    sim.addInstance(GROUP, INSTANCE, "eu-west-1", true);
    sim.addTerminationHook(GROUP, HOOK, Duration.ofMinutes(5), "ABANDON");
  }

  /** {@code check} against the simulator and the test root, unless {@code extra} says otherwise. */
  Run check(String... extra) {
    List<String> given = List.of(extra);
    List<String> args = new ArrayList<>();
    defaultTo(args, given, "--imds-endpoint", sim.imdsEndpoint().toString());
    defaultTo(args, given, "--autoscaling-endpoint", sim.autoScalingEndpoint().toString());
    defaultTo(args, given, "--queue-root", root.toString());
    args.addAll(given);
    return run(args.toArray(String[]::new));
  }

  private static void defaultTo(List<String> args, List<String> given, String flag, String value) {
    if (!given.contains(flag)) {
      args.add(flag);
      args.add(value);
    }
  }

  /** The command line as Main builds it for {@code check}. */
  Run run(String... args) {
    CheckCommand command = new CheckCommand();
    command.maxUserWatches = watches;
    CommandLine cl = new CommandLine(command);
    SettingOptions.addTo(cl.getCommandSpec());
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void healthySetup_passesEveryCheck_andExitsZero() throws IOException {
    healthyGroup();
    Path conf = Files.writeString(dir.resolve("drainguard.conf"), "quiet-period = 20s\n");

    Run r = check("--config", conf.toString());

    assertThat(r.code()).as(r.out() + r.err()).isZero();
    assertThat(r.line("PASS", "config")).endsWith("settings valid (file " + conf + ")");
    assertThat(r.line("PASS", "imds"))
        .endsWith(
            "IMDSv2 at "
                + sim.imdsEndpoint()
                + " (from flag --imds-endpoint) answered: instance "
                + INSTANCE
                + ", region eu-west-1");
    assertThat(r.line("PASS", "group"))
        .endsWith(
            "target-lifecycle-state InService; asg=workers from instance tag"
                + " aws:autoscaling:groupName");
    assertThat(r.line("PASS", "api"))
        .endsWith(
            "Auto Scaling at "
                + sim.autoScalingEndpoint()
                + " (from flag --autoscaling-endpoint) answered"
                + " autoscaling:DescribeLifecycleHooks");
    assertThat(r.line("PASS", "hook"))
        .endsWith(
            "hook=hold-queues asg=workers (asg from instance tag aws:autoscaling:groupName):"
                + " HeartbeatTimeout 5m, GlobalTimeout 8h20m, DefaultResult ABANDON; heartbeat"
                + " every 1m40s");
    assertThat(r.line("SKIP", "heartbeat")).contains("--probe-heartbeat");
    assertThat(r.line("PASS", "queue-root"))
        .endsWith(
            root
                + " readable: 1 file, 100 bytes counted; nothing ignored (no ignore globs); 2"
                + " directories; reads as holding data (residual 0 bytes)");
    assertThat(r.line("PASS", "inotify"))
        .endsWith("2 directories to watch under 1 queue root, fs.inotify.max_user_watches 8192");
    assertThat(r.out()).endsWith("8 passed, 0 warnings, 0 failed, 1 skipped\n");
    assertThat(r.out()).doesNotContain("fix:");
    // a check changes nothing: describe calls only
    assertThat(sim.calls("RecordLifecycleActionHeartbeat")).isEmpty();
    assertThat(sim.calls("CompleteLifecycleAction")).isEmpty();
  }

  @Test
  void groupWithoutTerminationHook_failsTheHookLineNamingTheGroup() {
    sim.addGroup(GROUP);
    sim.addInstance(GROUP, INSTANCE, "eu-west-1", true);

    Run r = check();

    assertThat(r.code()).isEqualTo(ExitCodes.FAILURE);
    assertThat(r.line("PASS", "api")).contains("autoscaling:DescribeLifecycleHooks");
    assertThat(r.line("FAIL", "hook"))
        .endsWith(
            "no termination hook on group workers: scale-in will not be held"
                + " (DescribeLifecycleHooks at "
                + sim.autoScalingEndpoint()
                + " (from flag --autoscaling-endpoint) lists no"
                + " autoscaling:EC2_INSTANCE_TERMINATING hook)");
    assertThat(r.fixOf("hook"))
        .startsWith(
            "fix: add one: aws autoscaling put-lifecycle-hook --auto-scaling-group-name workers");
    assertThat(r.line("SKIP", "heartbeat")).contains("no termination hook");
    assertThat(r.out()).endsWith("7 passed, 0 warnings, 1 failed, 1 skipped\n");
  }

  @Test
  void imdsDown_failsTheImdsLineWithTheFix_andSkipsWhatNeedsIt() {
    healthyGroup();
    sim.setImdsAvailable(false);

    Run r = check();

    assertThat(r.code()).isEqualTo(ExitCodes.FAILURE);
    assertThat(r.line("FAIL", "imds"))
        .contains(
            "IMDSv2 at "
                + sim.imdsEndpoint()
                + " (from flag --imds-endpoint): PUT "
                + sim.imdsEndpoint())
        .contains("/latest/api/token failed");
    assertThat(r.fixOf("imds"))
        .contains(
            "point --imds-endpoint (DRAINGUARD_IMDS_ENDPOINT, or AWS_EC2_METADATA_SERVICE_ENDPOINT)");
    for (String name : List.of("group", "api", "hook", "heartbeat")) {
      assertThat(r.line("SKIP", name)).endsWith("skipped: IMDS did not answer");
    }
    // the queue side does not need IMDS
    assertThat(r.line("PASS", "queue-root")).contains(root.toString());
    assertThat(sim.calls()).isEmpty();
  }

  @Test
  void imdsThatNeverAnswersTheTokenPut_getsTheHopLimitHint() throws IOException {
    // a socket that accepts connections and never answers: what a container sees when the token
    // answer is dropped by the PUT response hop limit of 1
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      String endpoint = "http://127.0.0.1:" + silent.getLocalPort();
      Run r = check("--imds-endpoint", endpoint);

      assertThat(r.code()).isEqualTo(ExitCodes.FAILURE);
      assertThat(r.line("FAIL", "imds"))
          .contains(
              "IMDSv2 at " + endpoint + " (from flag --imds-endpoint): the token PUT timed out")
          .contains("no answer within 2 s");
      assertThat(r.fixOf("imds"))
          .startsWith("fix: raise HttpPutResponseHopLimit to 2 if running in a container");
    }
  }

  @Test
  void theRealImdsAddress_isRefusedByTheLoopbackGuard_asAFailLine() {
    // guards against check (which runs before anything else on a new host) reaching 169.254.169.254
    Run r = check("--imds-endpoint", "http://169.254.169.254", "--loopback-only", "true");
    assertThat(r.code()).isEqualTo(ExitCodes.FAILURE);
    assertThat(r.line("FAIL", "imds")).contains("loopback-only mode refused the IMDS endpoint");
  }

  @Test
  void instanceInNoGroup_failsTheGroupLine() {
    sim.addInstance(null, INSTANCE, "eu-west-1", false);

    Run r = check();

    assertThat(r.code()).isEqualTo(ExitCodes.FAILURE);
    assertThat(r.line("FAIL", "group"))
        .endsWith(
            "instance "
                + INSTANCE
                + " is in no Auto Scaling group (IMDS"
                + " autoscaling/target-lifecycle-state answered 404)");
    assertThat(r.line("SKIP", "hook")).contains("not in an Auto Scaling group");
  }

  @Test
  void rootThatIsARegularFile_failsAsNotADirectory() throws IOException {
    healthyGroup();
    Path file = Files.writeString(dir.resolve("not-a-dir"), "x");

    Run r = check("--queue-root", file.toString());

    assertThat(r.code()).isEqualTo(ExitCodes.FAILURE);
    assertThat(r.line("FAIL", "queue-root")).endsWith(file + " is not a directory");
    assertThat(r.fixOf("queue-root")).contains("--queue-root");
    assertThat(r.line("SKIP", "inotify")).endsWith("no queue root could be read");
  }

  @Test
  void missingAndDanglingRoots_failWithTheCommandThatCreatesThem() throws IOException {
    healthyGroup();
    Path missing = dir.resolve("missing");
    Path dangling = Files.createSymbolicLink(dir.resolve("dangling"), dir.resolve("gone"));

    Run r = check("--queue-root", missing + "," + dangling);

    assertThat(r.code()).isEqualTo(ExitCodes.FAILURE);
    List<String> lines = r.out().lines().filter(l -> l.startsWith("FAIL  queue-root")).toList();
    assertThat(lines)
        .containsExactly(
            "FAIL  queue-root  " + missing + " does not exist",
            "FAIL  queue-root  " + dangling + " is a symbolic link to nothing");
    assertThat(r.fixOf("queue-root")).startsWith("fix: create it: install -d " + missing);
  }

  @Test
  void unreadableRoot_failsNamingTheUser() throws IOException {
    healthyGroup();
    Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("---------"));
    try {
      assumeFalse(
          Files.isReadable(root),
          "running as root: chmod 000 does not stop root from reading; the not-a-directory,"
              + " missing and dangling-link tests cover the FAIL line");
      Run r = check();
      assertThat(r.code()).isEqualTo(ExitCodes.FAILURE);
      assertThat(r.line("FAIL", "queue-root"))
          .endsWith(root + " is not readable by user " + System.getProperty("user.name"));
      assertThat(r.fixOf("queue-root")).contains("setfacl -R -m u:");
    } finally {
      Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
    }
  }

  @Test
  void probeHeartbeat_sendsExactlyOneHeartbeat_whichAwsRefusesAsNoActiveAction() {
    healthyGroup();

    Run r = check("--probe-heartbeat");

    assertThat(r.code()).as(r.out()).isZero();
    assertThat(r.line("PASS", "heartbeat"))
        .contains("autoscaling:RecordLifecycleActionHeartbeat allowed")
        .contains("'No active Lifecycle Action'")
        .contains("hook=hold-queues asg=workers instance=" + INSTANCE);
    List<ApiCall> heartbeats = sim.calls("RecordLifecycleActionHeartbeat");
    assertThat(heartbeats).hasSize(1);
    assertThat(heartbeats.get(0).httpStatus()).isEqualTo(400);
    assertThat(heartbeats.get(0).errorCode()).isEqualTo("ValidationError");
    assertThat(sim.calls("CompleteLifecycleAction")).isEmpty();
    assertThat(sim.lifecycleState(INSTANCE)).isEqualTo("InService");
  }

  @Test
  void probeHeartbeat_deniedByTheRole_failsNamingThePermission() {
    healthyGroup();
    sim.failApi(
        "RecordLifecycleActionHeartbeat",
        5,
        403,
        "AccessDenied",
        "User: arn:aws:sts::123456789012:assumed-role/worker/i-0123 is not authorized to perform:"
            + " autoscaling:RecordLifecycleActionHeartbeat");

    Run r = check("--probe-heartbeat");

    assertThat(r.code()).isEqualTo(ExitCodes.FAILURE);
    assertThat(r.line("FAIL", "heartbeat"))
        .contains("the role may not call autoscaling:RecordLifecycleActionHeartbeat")
        .contains("AccessDenied");
    assertThat(r.fixOf("heartbeat"))
        .startsWith("fix: allow autoscaling:RecordLifecycleActionHeartbeat in the instance role");
  }

  @Test
  void describeHooksDenied_failsTheApiLineNamingThePermission() {
    healthyGroup();
    sim.failApi("DescribeLifecycleHooks", 5, 403, "AccessDenied", "not authorized");

    Run r = check();

    assertThat(r.code()).isEqualTo(ExitCodes.FAILURE);
    assertThat(r.line("FAIL", "api"))
        .contains("the role may not call autoscaling:DescribeLifecycleHooks");
    assertThat(r.line("SKIP", "hook")).contains("the Auto Scaling API did not answer");
  }

  @Test
  void badConfigValue_isAFailLine_notACrash() {
    Run r = check("--quiet-period", "soon");

    assertThat(r.code()).isEqualTo(ExitCodes.FAILURE);
    assertThat(r.err()).isEmpty();
    assertThat(r.line("FAIL", "config"))
        .contains("invalid --quiet-period (env DRAINGUARD_QUIET_PERIOD, file key quiet-period)")
        .contains("'soon'");
    for (String name : List.of("imds", "group", "api", "hook", "heartbeat", "queue-root")) {
      assertThat(r.line("SKIP", name)).endsWith("skipped: the configuration did not load");
    }
    assertThat(r.out()).endsWith("0 passed, 0 warnings, 1 failed, 9 skipped\n");
  }

  @Test
  void json_printsOneObjectWithEveryCheck() throws IOException {
    healthyGroup();

    Run r = check("--json");

    assertThat(r.code()).isZero();
    assertThat(r.out().lines()).hasSize(1);
    JsonNode report = new ObjectMapper().readTree(r.out());
    assertThat(report.get("failed").asInt()).isZero();
    assertThat(report.get("passed").asInt()).isEqualTo(8);
    List<String> names = new ArrayList<>();
    report.get("checks").forEach(c -> names.add(c.get("name").asText()));
    assertThat(names)
        .containsExactly(
            "config",
            "imds",
            "group",
            "api",
            "hook",
            "heartbeat",
            "queue-root",
            "inotify",
            "drained-when");
  }

  @Test
  void configuredProbes_areEachAskedOnce_andTheirReadingShown() throws IOException {
    healthyGroup();
    try (CriblApiStub api = CriblApiStub.start()) {
      api.queue(0, "splunk_lb:idx", 2048);
      Run r =
          check(
              "--queue-probe-command",
              "echo '{\"queues\":[{\"name\":\"fwdq\",\"bytes\":0}]}'",
              "--cribl-api-url",
              api.url().toString(),
              "--drained-when",
              "command,cribl");

      assertThat(r.code()).as(r.out()).isZero();
      assertThat(r.out())
          .contains(
              "PASS  probe       command probe, command \"echo '{\"queues\":[{\"name\":\"fwdq\","
                  + "\"bytes\":0}]}'\" (timeout PT10S): 0 bytes queued in 1 queue (fwdq 0), empty")
          .contains(
              "PASS  probe       cribl probe, Cribl API "
                  + api.url()
                  + "/api/v1/system/metrics?wp=0")
          .contains(": 2048 bytes queued in 1 queue (w0:output:splunk_lb:idx 2048), NOT empty");
      assertThat(r.line("PASS", "drained-when"))
          .endsWith(
              "'command,cribl': drained when every one of command, cribl says empty (the others"
                  + " are shown only)");
    }
  }

  @Test
  void aProbeThatCannotTell_isAFailLineWithTheFix() {
    healthyGroup();

    Run r = check("--queue-probe-command", "echo 'no index file' >&2; exit 2");

    assertThat(r.code()).isEqualTo(ExitCodes.FAILURE);
    assertThat(r.line("FAIL", "probe")).endsWith("probe command exited 2, stderr: no index file");
    assertThat(r.fixOf("probe")).contains("run the command by hand as the agent's user");
  }

  @Test
  void theRealInotifyLimit_isReadAsCatReadsIt_andThreeDirectoriesPass() throws Exception {
    // /proc/sys/fs/inotify/max_user_watches read with Files.readString gave "1": check then
    // failed a healthy machine with three directories ("more than max_user_watches 1")
    Path proc = Path.of("/proc/sys/fs/inotify/max_user_watches");
    assumeTrue(Files.isReadable(proc), "no /proc/sys/fs/inotify here (not Linux)");
    Process cat = new ProcessBuilder("cat", proc.toString()).start();
    String byCat = new String(cat.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    assertThat(cat.waitFor()).isZero();
    assumeTrue(Long.parseLong(byCat.strip()) >= 6, "a limit below 6 would rightly warn");
    healthyGroup();
    Files.createDirectories(root.resolve("out-2"));

    // the real entry point, which reads the real /proc file
    MainTest.Run r =
        MainTest.execute(
            "check",
            "--imds-endpoint",
            sim.imdsEndpoint().toString(),
            "--autoscaling-endpoint",
            sim.autoScalingEndpoint().toString(),
            "--queue-root",
            root.toString());

    assertThat(r.code()).as(r.out() + r.err()).isZero();
    assertThat(r.out())
        .contains(
            "PASS  inotify     3 directories to watch under 1 queue root,"
                + " fs.inotify.max_user_watches "
                + byCat.strip()
                + "\n");
  }

  @Test
  void rulesThatHideData_areWarnings_withCountedAndIgnoredShown() throws IOException {
    healthyGroup();
    Files.write(root.resolve("out-1/queue.lock"), new byte[7]);
    Path other = Files.createDirectories(dir.resolve("other"));
    Files.write(other.resolve("q.0"), new byte[30]);
    Path linked = Files.createDirectories(dir.resolve("elsewhere"));
    Files.createSymbolicLink(other.resolve("out-9"), linked);

    Run r =
        check(
            "--queue-root",
            root + ":ignore=**/queue.*," + other + ":residual=64m",
            "--ignore-glob",
            "**/*.lock",
            "--queue-probe-command",
            "echo 0",
            "--quiet-period",
            "2s",
            "--probe-interval",
            "5s");

    assertThat(r.code()).as(r.out() + r.err()).isZero();
    assertThat(r.line("PASS", "queue-root"))
        .endsWith(
            root
                + " readable: 0 files, 0 bytes counted; 2 files, 107 bytes ignored (**/*.lock,"
                + " **/queue.*); 2 directories; reads as empty");
    List<String> warnings = r.out().lines().filter(l -> l.startsWith("WARN  ")).toList();
    assertThat(warnings).hasSize(4);
    assertThat(warnings.get(0))
        .startsWith("WARN  queue-root  " + root + ": the ignore globs match every file present");
    assertThat(r.out())
        .contains(
            other
                + " readable: 1 file, 30 bytes counted; 0 files, 0 bytes ignored (**/*.lock); 1"
                + " directory; reads as empty (30 bytes within the residual 67108864 bytes)");
    assertThat(warnings.get(1))
        .startsWith("WARN  queue-root  " + other + ": residual allowance 67108864 bytes (64 MiB)");
    assertThat(warnings.get(2))
        .startsWith("WARN  queue-root  " + other + ": 1 symbolic link to a directory (out-9)");
    assertThat(warnings.get(3))
        .startsWith(
            "WARN  quiet       quiet-period 2s is shorter than probe-interval 5s: the command"
                + " probe is asked again only after the quiet period is over");
    assertThat(r.fixOf("quiet")).contains("quiet-period = 5s or more");
    assertThat(r.out()).endsWith("10 passed, 4 warnings, 0 failed, 1 skipped\n");
  }

  @Test
  void aQuietPeriodAsLongAsTheProbeInterval_orNoScheduledProbe_doesNotWarn() {
    healthyGroup();
    assertThat(check("--quiet-period", "1s", "--probe-interval", "5s").out())
        .doesNotContain("WARN");
    assertThat(
            check(
                    "--queue-probe-command",
                    "echo 0",
                    "--quiet-period",
                    "5s",
                    "--probe-interval",
                    "5s")
                .out())
        .doesNotContain("WARN");
  }
}
