package dev.drainguard.proc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import dev.drainguard.proc.Isolation.Capabilities;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real processes under real setsid, setpriv and kill, as the agent starts its commands. */
class ShellLauncherTest {

  /** What the agent could have in its environment: credentials a command must never see. */
  static final Map<String, String> AGENT_ENV =
      Map.of(
          "PATH", "/usr/bin:/bin",
          "LANG", "C.UTF-8",
          "HOME", "/var/lib/drainguard",
          "AWS_ACCESS_KEY_ID", "AKIAEXAMPLE",
          "AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
          "DRAINGUARD_CRIBL_TOKEN_FILE", "/etc/drainguard/cribl.token");

  @TempDir Path dir;

  static ShellLauncher launcher(Capabilities caps) {
    return new ShellLauncher(AGENT_ENV, Isolation.detect(caps, Map.of("PATH", "/usr/bin:/bin")));
  }

  static ShellLauncher.Result run(ShellLauncher l, String command) throws Exception {
    return l.run(
        command, Map.of("DRAINGUARD_EVENT", "termination"), Duration.ofSeconds(20), false, 65536);
  }

  /**
   * Issue 20, point 9: a command saw the agent's whole environment (AWS keys included when the
   * credentials come from it). It sees PATH, LANG and what it is given; the shell adds PWD.
   */
  @Test
  void aCommand_seesOnlyPathLangAndWhatItIsGiven() throws Exception {
    ShellLauncher.Result r = run(launcher(Capabilities.DROP), "env");

    assertThat(r.exitCode()).isZero();
    Map<String, String> seen =
        r.stdout()
            .text()
            .lines()
            .map(l -> l.split("=", 2))
            .collect(Collectors.toMap(kv -> kv[0], kv -> kv[1]));
    seen.remove("PWD");
    assertThat(seen)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("PATH", "/usr/bin:/bin", "LANG", "C.UTF-8", "DRAINGUARD_EVENT", "termination"));
  }

  @Test
  void noPathInTheAgentsEnvironment_givesTheStandardOne() {
    assertThat(ShellLauncher.minimal(Map.of("HOME", "/root"), Map.of()))
        .containsExactlyEntriesOf(Map.of("PATH", ShellLauncher.DEFAULT_PATH));
  }

  /**
   * Issue 20, point 9: the packaged unit gives the agent the ambient capability CAP_DAC_READ_SEARCH
   * as an unprivileged user, and a command inherited it. Here the command is started the same way
   * (setpriv makes it user nobody with that ambient capability, as systemd does), then through the
   * launcher's own prefix: it has none left; without the drop it keeps it, which is what the probe
   * command is given on purpose.
   */
  @Test
  void anOperatorsCommand_losesTheAgentsAmbientCapability_whileTheProbeKeepsIt() throws Exception {
    assumeThat(ProcessHandle.current().info().user()).contains("root");
    Optional<List<String>> drop =
        Isolation.workingDrop("/usr/bin/setpriv", Map.of("PATH", "/usr/bin:/bin"));
    assumeThat(drop).as("setpriv with --ambient-caps (util-linux 2.31+)").isPresent();

    String caps = "grep -E '^Cap(Amb|Eff)' /proc/self/status";
    assertThat(run(asUnitWould(drop.get()), caps).stdout().text())
        .contains("CapAmb:\t0000000000000000")
        .contains("CapEff:\t0000000000000000");
    assertThat(run(asUnitWould(List.of()), caps).stdout().text())
        .contains("CapAmb:\t0000000000000004") // bit 2: CAP_DAC_READ_SEARCH
        .contains("CapEff:\t0000000000000004");
  }

  /** The agent's situation under its unit, then the launcher's own drop (or none). */
  static ShellLauncher asUnitWould(List<String> drop) {
    List<String> prefix =
        new ArrayList<>(
            List.of(
                "/usr/bin/setsid",
                "/usr/bin/setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--inh-caps=+dac_read_search",
                "--ambient-caps=+dac_read_search"));
    prefix.addAll(drop);
    return new ShellLauncher(
        AGENT_ENV, new Isolation(prefix, true, Optional.of("/usr/bin/kill"), "as the unit would"));
  }

  @Test
  void noSetprivThatWorks_dropsNothing_andSaysSo() {
    assertThat(Isolation.workingDrop(dir.resolve("setpriv").toString(), Map.of())).isEmpty();
  }

  @Test
  void theAmbientSet_isReadFromProcStatus() {
    assertThat(
            Isolation.parseAmbient(
                "Name:\tjava\nCapInh:\t0000000000000004\nCapAmb:\t0000000000000004\n"))
        .isEqualTo(4);
    assertThat(Isolation.parseAmbient("Name:\tjava\n")).isZero();
  }

  @Test
  void whatThisHostAllows_isOneLineForTheLog() {
    Isolation i = Isolation.detect(Capabilities.DROP, Map.of("PATH", "/usr/bin:/bin"));
    assertThat(i.ownGroup()).isTrue();
    assertThat(i.prefix()).startsWith("/usr/bin/setsid");
    assertThat(i.description()).startsWith("own process group (setsid)");
  }

  /**
   * Without a kill program the group's members are found in /proc: the background child dies with
   * the command all the same.
   */
  @Test
  void withoutAKillProgram_theGroupIsFoundInProc() throws Exception {
    ShellLauncher l =
        new ShellLauncher(
            AGENT_ENV,
            new Isolation(List.of("/usr/bin/setsid"), true, Optional.empty(), "scan only"));
    assertBackgroundChildDies(l);
  }

  @Test
  void withAKillProgram_theWholeGroupGetsOneSignal() throws Exception {
    assertBackgroundChildDies(launcher(Capabilities.DROP));
  }

  void assertBackgroundChildDies(ShellLauncher l) throws Exception {
    Path pid = dir.resolve("pid");
    ShellLauncher.Result r = run(l, "sleep 60 & echo $! > " + pid + "; echo done");
    assertThat(r.exitCode()).isZero();
    assertThat(r.stdout().text()).isEqualTo("done\n");
    long child = Long.parseLong(Files.readString(pid).strip());
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> ProcessHandle.of(child).map(h -> !h.isAlive()).orElse(true));
  }

  /** A command that forks children in a loop is still stopped, children and all, at its timeout. */
  @Test
  void aForkingCommand_isKilledWhole_atItsTimeout() throws Exception {
    Path pids = dir.resolve("pids");
    ShellLauncher.Result r =
        launcher(Capabilities.DROP)
            .run(
                "while :; do sleep 60 & echo $! >> " + pids + "; done",
                Map.of(),
                Duration.ofSeconds(1),
                false,
                1024);
    assertThat(r.timedOut()).isTrue();
    List<Long> children = Files.readAllLines(pids).stream().map(Long::parseLong).toList();
    assertThat(children).isNotEmpty();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                children.stream()
                    .noneMatch(c -> ProcessHandle.of(c).map(ProcessHandle::isAlive).orElse(false)));
  }

  @Test
  void outputBeyondTheKeptBytes_isCountedAndMarked() throws Exception {
    ShellLauncher.Result r =
        launcher(Capabilities.DROP)
            .run(
                "head -c 5000 /dev/zero | tr '\\\\0' x",
                Map.of(),
                Duration.ofSeconds(10),
                false,
                100);
    assertThat(r.stdout().text()).hasSize(100);
    assertThat(r.stdout().bytes()).isEqualTo(5000);
    assertThat(r.stdout().truncated()).isTrue();
  }

  @Test
  void noOutputFileIsLeftBehind() throws Exception {
    Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
    long before = countOutputs(tmp);
    run(launcher(Capabilities.DROP), "echo 1; echo 2 >&2");
    assertThat(countOutputs(tmp)).isEqualTo(before);
  }

  static long countOutputs(Path tmp) throws IOException {
    try (var s = Files.list(tmp)) {
      return s.filter(p -> p.getFileName().toString().startsWith("drainguard-command-")).count();
    }
  }
}
