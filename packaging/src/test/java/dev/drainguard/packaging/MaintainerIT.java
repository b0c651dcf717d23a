package dev.drainguard.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The package steps of /usr/libexec/drainguard/maintainer (what the RPM scriptlets and the DEB
 * maintainer scripts run), with systemctl, the user database and the agent's status faked, so that
 * every branch is seen. HoldingAgentIT runs the removal against a real holding agent.
 */
class MaintainerIT {

  static final String USERADD =
      "useradd --system --gid drainguard --no-create-home --home-dir /nonexistent"
          + " --shell /usr/sbin/nologin --comment drainguard agent drainguard";

  @TempDir Path root;
  @TempDir Path fakes;
  Path log;
  Path cache;
  Map<String, String> env;

  @BeforeEach
  void fakeTheSystem() {
    Pkg.extractDeb(root);
    log = fakes.resolve("calls.log");
    cache = root.resolve("var/cache/drainguard");
    // the agent: answers status with $FAKE_STATUS, "writes" an archive when asked to dump one
    Pkg.script(
        root.resolve("usr/bin/drainguard"),
        """
        echo "drainguard $* cds=${DRAINGUARD_CDS:-}" >>"$FAKE_LOG"
        if [ "${DRAINGUARD_CDS:-}" = dump ]; then touch "$FAKE_CACHE/fake.jsa"; exit 0; fi
        [ "${1:-}" = status ] && exit "$FAKE_STATUS"
        exit 0
        """);
    Pkg.script(
        fakes.resolve("systemctl"),
        """
        echo "systemctl $*" >>"$FAKE_LOG"
        case "$1" in
          is-system-running) echo "$FAKE_SYSTEMD"; [ "$FAKE_SYSTEMD" = running ] ;;
          is-active)
            case "$FAKE_ACTIVE" in yes) echo active ;; no) echo inactive; exit 3 ;; *) echo "$FAKE_ACTIVE"; exit 3 ;; esac ;;
        esac
        """);
    Pkg.script(
        fakes.resolve("getent"),
        "echo \"getent $*\" >>\"$FAKE_LOG\"\n[ \"$FAKE_ACCOUNT\" = present ]\n");
    Pkg.script(fakes.resolve("groupadd"), "echo \"groupadd $*\" >>\"$FAKE_LOG\"\n");
    Pkg.script(fakes.resolve("useradd"), "echo \"useradd $*\" >>\"$FAKE_LOG\"\n");
    env = Pkg.baseEnv();
    env.put("PATH", fakes + ":/usr/bin:/bin");
    env.put("FAKE_LOG", log.toString());
    env.put("FAKE_CACHE", cache.toString());
    env.put("FAKE_SYSTEMD", "running");
    env.put("FAKE_ACTIVE", "yes");
    env.put("FAKE_ACCOUNT", "absent");
    env.put("FAKE_STATUS", "0");
  }

  Pkg.Result maintainer(String step) {
    return Pkg.run(env, root.resolve("usr/libexec/drainguard/maintainer").toString(), step);
  }

  List<String> calls() {
    return Files.exists(log) ? Pkg.read(log).lines().toList() : List.of();
  }

  @Test
  void installCreatesTheAccountWritesTheArchiveReloadsAndEnablesWithoutStarting() {
    Pkg.Result r = maintainer("install").ok();

    assertThat(calls())
        .containsExactly(
            "getent group drainguard",
            "groupadd --system drainguard",
            "getent passwd drainguard",
            USERADD,
            "drainguard  cds=dump",
            "systemctl is-system-running",
            "systemctl daemon-reload",
            "systemctl enable --quiet drainguard.service");
    assertThat(r.err()).contains("installed and enabled", "systemctl start drainguard");
  }

  @Test
  void installKeepsAnExistingAccount() {
    env.put("FAKE_ACCOUNT", "present");

    maintainer("install").ok();

    assertThat(calls()).noneMatch(c -> c.startsWith("groupadd") || c.startsWith("useradd"));
  }

  @Test
  void installInAnImageBuiltWithoutSystemdRunningStillEnablesTheUnit() {
    env.put("FAKE_SYSTEMD", "offline");

    maintainer("install").ok();

    assertThat(calls())
        .contains("systemctl enable --quiet drainguard.service")
        .doesNotContain("systemctl daemon-reload");
  }

  @Test
  void upgradeRestartsARunningAgentThatHoldsNothing() {
    env.put("FAKE_ACCOUNT", "present");

    maintainer("upgrade").ok();

    assertThat(calls())
        .containsSubsequence(
            "drainguard  cds=dump",
            "systemctl daemon-reload",
            "systemctl is-active drainguard.service",
            "drainguard status cds=",
            "systemctl try-restart drainguard.service");
  }

  @ParameterizedTest(name = "status exit {0}")
  @ValueSource(ints = {3, 4, 77})
  void upgradeLeavesARunningAgentThatCannotSayWhetherItHoldsRunning(int status) {
    // issue 20: a jammed or removed socket (exit 3) made a holding agent look idle
    env.put("FAKE_ACCOUNT", "present");
    env.put("FAKE_STATUS", String.valueOf(status));

    Pkg.Result r = maintainer("upgrade").ok();

    assertThat(calls()).noneMatch(c -> c.contains("restart") || c.contains("stop"));
    assertThat(r.err()).contains("NOT restarting drainguard", "exited " + status);
  }

  @Test
  void upgradeWithForceRestartsEvenAHoldingAgentAndSaysSo() {
    env.put("FAKE_ACCOUNT", "present");
    env.put("FAKE_STATUS", "10");
    env.put("DRAINGUARD_FORCE", "1");

    Pkg.Result r = maintainer("upgrade").ok();

    assertThat(calls()).contains("systemctl try-restart drainguard.service");
    assertThat(r.err()).contains("DRAINGUARD_FORCE=1: restarting drainguard although");
  }

  @Test
  void upgradeLeavesAHoldingAgentRunningAndSaysSo() {
    env.put("FAKE_ACCOUNT", "present");
    env.put("FAKE_STATUS", "10");

    Pkg.Result r = maintainer("upgrade").ok();

    assertThat(calls()).noneMatch(c -> c.contains("restart") || c.contains("stop"));
    assertThat(r.err()).contains("NOT restarting drainguard", "holding");
  }

  @Test
  void upgradeDoesNotStartAStoppedService() {
    env.put("FAKE_ACCOUNT", "present");
    env.put("FAKE_ACTIVE", "no");

    maintainer("upgrade").ok();

    assertThat(calls()).noneMatch(c -> c.contains("restart") || c.contains("status"));
  }

  @ParameterizedTest(name = "status exit {0}")
  @ValueSource(ints = {0, 11})
  void removeStopsAnAgentInServiceOrDoneAndDropsTheArchives(int status) {
    env.put("FAKE_STATUS", String.valueOf(status));
    Pkg.write(cache.resolve("some-runtime.jsa"), "x");
    Pkg.write(cache.resolve("java-25-runtime.aot"), "x");
    Pkg.write(cache.resolve(".dump.123.aot.config"), "x"); // left by a dump that was cut short

    maintainer("remove").ok();

    assertThat(calls()).contains("drainguard status cds=", "systemctl stop drainguard.service");
    assertThat(cache.toFile().list()).isEmpty();
  }

  @Test
  void removeRefusesWhileTheAgentHoldsALifecycleActionAndStopsNothing() {
    env.put("FAKE_STATUS", "10");
    Pkg.write(cache.resolve("some-runtime.jsa"), "x");

    Pkg.Result r = maintainer("remove");

    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("NOT removing drainguard", "holding", "systemctl stop drainguard");
    assertThat(calls()).noneMatch(c -> c.contains("stop") || c.contains("disable"));
    assertThat(cache.resolve("some-runtime.jsa")).exists();
  }

  @Test
  void removeRefusesWhenARunningAgentCannotSayWhetherItHolds() {
    env.put("FAKE_STATUS", "78");

    Pkg.Result r = maintainer("remove");

    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("NOT removing drainguard", "exited 78");
    assertThat(calls()).noneMatch(c -> c.contains("stop"));
  }

  @ParameterizedTest(name = "systemd says {0}")
  @ValueSource(strings = {"yes", "activating", "deactivating", "reloading"})
  void removeRefusesWhenSystemdSaysTheAgentRunsButItsSocketDoesNotAnswer(String active) {
    // issue 20: exit 3 ("not reachable") was read as "not running" without asking systemd, so a
    // removal stopped an agent that held a lifecycle action behind a jammed or deleted socket
    env.put("FAKE_STATUS", "3");
    env.put("FAKE_ACTIVE", active);

    Pkg.Result r = maintainer("remove");

    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err())
        .contains("NOT removing drainguard", "systemd says the agent runs", "exited 3");
    assertThat(calls()).noneMatch(c -> c.contains("stop"));
  }

  @Test
  void removeWithForceGoesAheadWhileHoldingAndSaysSo() {
    env.put("FAKE_STATUS", "10");
    env.put("DRAINGUARD_FORCE", "1");

    Pkg.Result r = maintainer("remove").ok();

    assertThat(r.err()).contains("DRAINGUARD_FORCE=1: removing drainguard although");
    assertThat(calls()).contains("systemctl stop drainguard.service");
  }

  @ParameterizedTest(name = "status exit {0}")
  @ValueSource(ints = {3, 69})
  void removeGoesAheadWhenTheServiceIsStoppedWhateverStatusSays(int status) {
    env.put("FAKE_STATUS", String.valueOf(status));
    env.put("FAKE_ACTIVE", "no");

    maintainer("remove").ok();

    assertThat(calls()).contains("systemctl stop drainguard.service");
  }

  @Test
  void removeWithoutSystemdRunningOnlyCleansUp() {
    env.put("FAKE_SYSTEMD", "offline");

    maintainer("remove").ok();

    assertThat(calls()).noneMatch(c -> c.contains("stop"));
  }

  @Test
  void anUnknownStepIsAUsageError() {
    assertThat(maintainer("purge").exit()).isEqualTo(2);
  }
}
