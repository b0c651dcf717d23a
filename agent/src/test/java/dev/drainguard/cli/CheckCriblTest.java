package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.sim.Simulator;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code drainguard check} on a Cribl worker, end to end against the simulator over loopback: a
 * queue Cribl keeps outside every root FAILs with its path and the settings to change; {@code
 * queue-root auto} passes.
 */
class CheckCriblTest {

  @TempDir Path home;
  Simulator sim;
  Path outputs;
  Path pq;
  Path watches;

  @BeforeEach
  void setUp() throws IOException {
    sim = Simulator.start(Clock.systemUTC());
    sim.addGroup("workers");
    sim.addInstance("workers", "i-0123456789abcdef0", "eu-west-1", true);
    sim.addTerminationHook("workers", "hold-queues", Duration.ofMinutes(5), "ABANDON");
    pq = Files.createDirectories(home.resolve("pq-volume"));
    Files.createDirectories(home.resolve("state/queues"));
    outputs = home.resolve("local/cribl/outputs.yml");
    Files.createDirectories(outputs.getParent());
    // Cribl Stream 4.14 outputs.yml: one destination PQ on the default path, one moved to a volume
    Files.writeString(
        outputs,
        String.join(
            "\n",
            "outputs:",
            "  splunk:",
            "    type: splunk_lb",
            "    onBackpressure: queue",
            "  syslog:",
            "    type: syslog",
            "    host: siem.example.internal",
            "    onBackpressure: queue",
            "    pqPath: " + pq,
            ""));
    watches = Files.writeString(home.resolve("max_user_watches"), "8192\n");
  }

  @AfterEach
  void tearDown() {
    sim.close();
  }

  record Run(int code, String out) {
    List<String> lines(String status, String name) {
      String prefix = String.format("%-4s  %-10s  ", status, name);
      return out.lines().filter(l -> l.startsWith(prefix)).toList();
    }

    String fixAfter(String line) {
      List<String> all = out.lines().toList();
      return all.get(all.indexOf(line) + 1).strip();
    }
  }

  Run check(String... queueRoots) {
    List<String> args = new ArrayList<>();
    args.addAll(List.of("--imds-endpoint", sim.imdsEndpoint().toString()));
    args.addAll(List.of("--autoscaling-endpoint", sim.autoScalingEndpoint().toString()));
    args.add("--loopback-only");
    args.add("true");
    for (String r : queueRoots) {
      args.addAll(List.of("--queue-root", r));
    }
    CheckCommand command = new CheckCommand();
    command.maxUserWatches = watches;
    command.env = Map.of("CRIBL_HOME", home.toString());
    CommandLine cl = new CommandLine(command);
    SettingOptions.addTo(cl.getCommandSpec());
    StringWriter out = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(new StringWriter(), true));
    return new Run(cl.execute(args.toArray(String[]::new)), out.toString());
  }

  @Test
  void aQueueOutsideEveryRoot_fails_namingThePathAndTheSettingsToChange() {
    Run r = check(home.resolve("state/queues").toString());

    assertThat(r.code()).as(r.out()).isEqualTo(ExitCodes.FAILURE);
    assertThat(r.lines("PASS", "cribl"))
        .anySatisfy(l -> assertThat(l).contains("Cribl configuration read from [" + outputs + "]"))
        .anySatisfy(
            l ->
                assertThat(l)
                    .endsWith(
                        "output splunk (splunk_lb) destination PQ "
                            + home.resolve("state/queues")
                            + "/<worker-process>/splunk: under queue root "
                            + home.resolve("state/queues")));
    List<String> failed = r.lines("FAIL", "cribl");
    assertThat(failed).hasSize(1);
    assertThat(failed.get(0))
        .endsWith(
            "output syslog (syslog) destination PQ "
                + pq
                + "/<worker-process>/syslog: outside every queue root, so its data is lost at"
                + " termination");
    assertThat(r.fixAfter(failed.get(0)))
        .isEqualTo(
            "fix: add queue-root auto (or --queue-root "
                + pq
                + ", env DRAINGUARD_QUEUE_ROOT), or move the queue under a root: pqPath of output"
                + " syslog ("
                + outputs
                + ":9)");
  }

  @Test
  void withAuto_everyQueueIsUnderARoot_andTheCheckPasses() {
    Run r = check("auto");

    assertThat(r.code()).as(r.out()).isZero();
    assertThat(r.lines("FAIL", "cribl")).isEmpty();
    assertThat(r.lines("PASS", "cribl"))
        .anySatisfy(
            l -> assertThat(l).endsWith("2 local buffers, judged against the queue-root auto"))
        .anySatisfy(
            l -> assertThat(l).endsWith("/<worker-process>/syslog: under queue root " + pq));
    assertThat(r.lines("PASS", "queue-root")).hasSize(2);
  }

  @Test
  void unsetQueueRoot_isAuto_onAWorkerWithCribl() {
    Run r = check();

    assertThat(r.code()).as(r.out()).isZero();
    assertThat(r.lines("PASS", "cribl"))
        .anySatisfy(l -> assertThat(l).endsWith("judged against the queue-root auto"));
  }

  @Test
  void aMalformedConfiguration_failsWithFileAndLine_andAutoKeepsTodaysDefault() throws IOException {
    Files.writeString(
        outputs, "outputs:\n  splunk:\n    type: splunk_lb\n   onBackpressure: queue\n");

    Run r = check("auto");

    assertThat(r.code()).isEqualTo(ExitCodes.FAILURE);
    assertThat(r.lines("FAIL", "cribl"))
        .singleElement()
        .satisfies(
            l ->
                assertThat(l)
                    .contains(outputs + ":4: not valid YAML")
                    .endsWith(
                        "queue-root auto keeps today's default " + home.resolve("state/queues")));
    assertThat(r.lines("PASS", "queue-root"))
        .singleElement()
        .satisfies(l -> assertThat(l).contains(home.resolve("state/queues").toString()));
  }

  @Test
  void autoWithoutConfiguration_warnsAndSaysItKeepsTodaysDefault() throws IOException {
    Files.delete(outputs);

    Run r = check("auto");

    assertThat(r.code()).as(r.out()).isZero();
    assertThat(r.lines("WARN", "cribl"))
        .singleElement()
        .satisfies(
            l ->
                assertThat(l)
                    .contains("no Cribl configuration at " + home.resolve("local/cribl"))
                    .endsWith(
                        "queue-root auto keeps today's default " + home.resolve("state/queues")));
  }
}
