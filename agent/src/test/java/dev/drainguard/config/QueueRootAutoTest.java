package dev.drainguard.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drainguard.cribl.AutoRoots;
import dev.drainguard.queue.QueueRootSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code queue-root auto}, and when it is the default. */
class QueueRootAutoTest {

  @TempDir Path home;
  Path pq;

  @BeforeEach
  void cribl() throws IOException {
    pq = home.resolve("pq-volume");
    Files.createDirectories(home.resolve("local/cribl"));
    Files.writeString(
        home.resolve("local/cribl/outputs.yml"),
        "outputs:\n  syslog:\n    type: syslog\n    onBackpressure: queue\n    pqPath: "
            + pq
            + "\n");
  }

  private AgentConfig load(Map<Setting, List<String>> flags, Map<String, String> env) {
    return new ConfigLoader(flags, env, Optional.empty()).loadWithoutFile();
  }

  private static Map<Setting, List<String>> roots(String... values) {
    Map<Setting, List<String>> m = new EnumMap<>(Setting.class);
    m.put(Setting.QUEUE_ROOT, List.of(values));
    return m;
  }

  private static List<Path> paths(AgentConfig c) {
    return c.queueRoots().stream().map(QueueRootSpec::root).toList();
  }

  @Test
  void unset_isAuto_whenCriblHomeExists() {
    AgentConfig c = load(Map.of(), Map.of("CRIBL_HOME", home.toString()));

    assertThat(paths(c)).containsExactly(pq);
    assertThat(c.queueRootAuto()).isPresent();
    assertThat(c.criblHome()).hasValueSatisfying(h -> assertThat(h.home()).isEqualTo(home));
  }

  @Test
  void unset_isTodaysDefault_whenCriblHomeDoesNotExist() {
    AgentConfig c = load(Map.of(), Map.of("CRIBL_HOME", home.resolve("absent").toString()));

    assertThat(paths(c)).containsExactly(home.resolve("absent/state/queues"));
    assertThat(c.queueRootAuto()).isEmpty();
    assertThat(c.criblHome()).isEmpty();
  }

  @Test
  void autoBesideADirectory_keepsTheDirectoryFirst_withItsRules() {
    AgentConfig c =
        load(
            roots("/var/spool/rsyslog:ignore=*.qi:residual=4k, auto"),
            Map.of("CRIBL_HOME", home.toString()));

    assertThat(paths(c)).containsExactly(Path.of("/var/spool/rsyslog"), pq);
    assertThat(c.queueRoots().get(0).residualBytes()).isEqualTo(4096);
    assertThat(c.queueRoots().get(0).ignoreGlobs()).containsExactly("*.qi");
  }

  @ParameterizedTest
  @ValueSource(strings = {"auto,/extra", "AUTO , /extra", "/extra,auto", "/extra:residual=1k,auto"})
  void autoAndADirectory_inOneValue_areTwoItems(String value) {
    AgentConfig c = load(roots(value), Map.of("CRIBL_HOME", home.toString()));

    assertThat(paths(c)).containsExactly(Path.of("/extra"), pq);
  }

  @Test
  void auto_fromTheEnvironment_andFromTheFile(@TempDir Path etc) throws IOException {
    AgentConfig fromEnv =
        load(Map.of(), Map.of("CRIBL_HOME", home.toString(), "DRAINGUARD_QUEUE_ROOT", "auto"));
    assertThat(paths(fromEnv)).containsExactly(pq);

    Path conf = Files.writeString(etc.resolve("drainguard.conf"), "queue-root = auto\n");
    AgentConfig fromFile =
        new ConfigLoader(Map.of(), Map.of("CRIBL_HOME", home.toString()), Optional.of(conf)).load();
    assertThat(paths(fromFile)).containsExactly(pq);
  }

  @Test
  void autoRoots_getTheGlobalRules() {
    Map<Setting, List<String>> flags = roots("auto");
    flags.put(Setting.IGNORE_GLOB, List.of("**/*.lock"));
    flags.put(Setting.RESIDUAL_BYTES, List.of("2k"));

    QueueRootSpec root = load(flags, Map.of("CRIBL_HOME", home.toString())).queueRoots().get(0);

    assertThat(root.ignoreGlobs()).containsExactly("**/*.lock");
    assertThat(root.residualBytes()).isEqualTo(2048);
  }

  @Test
  void aMalformedCriblFile_isNoConfigurationError_todaysDefaultIsKept_andTheReasonIsKept()
      throws IOException {
    Files.writeString(home.resolve("local/cribl/outputs.yml"), "outputs:\n  a: [\n");

    AgentConfig c = load(roots("auto"), Map.of("CRIBL_HOME", home.toString()));

    assertThat(paths(c)).containsExactly(home.resolve("state/queues"));
    assertThat(c.queueRootAuto().orElseThrow().fallback())
        .hasValueSatisfying(f -> assertThat(f).contains("outputs.yml:"));
  }

  @Test
  void autoWithoutCribl_fallsBackToTodaysDefault_andSaysSo() {
    Path absent = home.resolve("absent");
    AgentConfig c = load(roots("auto"), Map.of("CRIBL_HOME", absent.toString()));

    assertThat(paths(c)).containsExactly(absent.resolve("state/queues"));
    assertThat(c.queueRootAuto().orElseThrow().fallback())
        .hasValueSatisfying(f -> assertThat(f).startsWith("no Cribl configuration at "));
  }

  @Test
  void explicitRootsOnly_stillKnowCriblsHome_forCheck() {
    AgentConfig c = load(roots("/var/spool/x"), Map.of("CRIBL_HOME", home.toString()));

    assertThat(paths(c)).containsExactly(Path.of("/var/spool/x"));
    assertThat(c.queueRootAuto()).isEmpty();
    assertThat(c.criblHome()).isPresent();
  }

  @Test
  void aBadDirectoryBesideAuto_isStillAConfigurationError() {
    assertThatThrownBy(() -> load(roots("auto, /x:residual=lots"), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("invalid --queue-root")
        .hasMessageContaining("'auto', or an absolute directory path");
  }

  @Test
  void theStagingInventoryGlob_isAValidRootRule() {
    // the rule auto gives staging roots parses like one an operator would write
    QueueRootSpec s = RootRules.parse("/s:ignore=" + AutoRoots.STAGING_INVENTORY, List.of(), 0, 1);
    assertThat(s.ignoreGlobs()).containsExactly(AutoRoots.STAGING_INVENTORY);
  }
}
