package dev.drainguard.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drainguard.drain.DeadlinePolicy;
import dev.drainguard.metrics.StatsdFlavor;
import dev.drainguard.queue.DrainedWhen;
import dev.drainguard.queue.QueueRootSpec;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigLoaderTest {

  @TempDir Path dir;

  static AgentConfig load(Map<Setting, List<String>> flags, Map<String, String> env, Path file) {
    return new ConfigLoader(flags, env, Optional.ofNullable(file)).load();
  }

  static Map<Setting, List<String>> flag(Setting s, String v) {
    Map<Setting, List<String>> m = new EnumMap<>(Setting.class);
    m.put(s, List.of(v));
    return m;
  }

  static List<Path> roots(AgentConfig c) {
    return c.queueRoots().stream().map(QueueRootSpec::root).toList();
  }

  Path file(String... lines) throws IOException {
    return Files.write(dir.resolve("drainguard.conf"), List.of(lines));
  }

  @Test
  void defaults_matchTheDocumentedValues() {
    AgentConfig c = new ConfigLoader(Map.of(), Map.of(), Optional.empty()).loadWithoutFile();
    assertThat(roots(c)).containsExactly(Path.of("/opt/cribl/state/queues"));
    assertThat(c.drainedWhen()).isEqualTo(DrainedWhen.ALL);
    assertThat(c.queueProbeCommand()).isEmpty();
    assertThat(c.criblApiUrl()).isEmpty();
    assertThat(c.probeInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.probeTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.quietPeriod()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.reconcileInterval()).isEqualTo(Duration.ofSeconds(60));
    // the longest allowed: min(this, HeartbeatTimeout / 3) is then HeartbeatTimeout / 3
    assertThat(c.heartbeatInterval()).isEqualTo(Duration.ofHours(2));
    assertThat(c.actionGrace()).isEqualTo(Duration.ofMinutes(15));
    assertThat(c.deadlinePolicy()).isEqualTo(DeadlinePolicy.EXPIRE);
    assertThat(c.imdsEndpoint()).isEqualTo(URI.create("http://169.254.169.254"));
    assertThat(c.autoScalingEndpoint()).isEmpty();
    assertThat(c.groupFromTags()).isTrue();
    assertThat(c.loopbackOnly()).isFalse();
    assertThat(c.maxHold()).isEmpty();
  }

  @Test
  void criblHome_movesTheDefaultQueueRoot() {
    AgentConfig c =
        new ConfigLoader(Map.of(), Map.of("CRIBL_HOME", "/srv/cribl"), Optional.empty())
            .loadWithoutFile();
    assertThat(roots(c)).containsExactly(Path.of("/srv/cribl/state/queues"));
  }

  @Test
  void flagsWinOverEnvWhichWinsOverFileWhichWinsOverDefault() throws IOException {
    Path f = file("quiet-period = 3s", "reconcile-interval = 4s", "heartbeat-interval = 5s");
    Map<String, String> env =
        Map.of("DRAINGUARD_QUIET_PERIOD", "2s", "DRAINGUARD_RECONCILE_INTERVAL", "7s");
    AgentConfig c = load(flag(Setting.QUIET_PERIOD, "1s"), env, f);
    assertThat(c.quietPeriod()).isEqualTo(Duration.ofSeconds(1)); // flag
    assertThat(c.reconcileInterval()).isEqualTo(Duration.ofSeconds(7)); // env
    assertThat(c.heartbeatInterval()).isEqualTo(Duration.ofSeconds(5)); // file
    assertThat(c.actionGrace()).isEqualTo(Duration.ofMinutes(15)); // default
  }

  @Test
  void configFile_fromTheEnvironment_andListsFromRepeatedKeysAndCommas() throws IOException {
    Path f =
        file(
            "# queues of two Cribl installs",
            "queue-root = /a, /b",
            "queue-root = \"/c\"",
            "",
            "ignore-glob = **/*.lock");
    AgentConfig c =
        new ConfigLoader(Map.of(), Map.of("DRAINGUARD_CONFIG", f.toString()), Optional.empty())
            .load();
    assertThat(roots(c)).containsExactly(Path.of("/a"), Path.of("/b"), Path.of("/c"));
    assertThat(c.queueRoots())
        .allSatisfy(r -> assertThat(r.ignoreGlobs()).containsExactly("**/*.lock"));
    assertThat(c.configFile()).contains(f);
  }

  @Test
  void anExplicitConfigFileThatDoesNotExist_isAnError() {
    assertThatThrownBy(() -> load(Map.of(), Map.of(), dir.resolve("nope.conf")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("nope.conf does not exist");
  }

  @Test
  void anUnknownKeyInTheFile_namesTheLine() throws IOException {
    Path f = file("quiet-period = 3s", "quiet_period = 4s");
    assertThatThrownBy(() -> load(Map.of(), Map.of(), f))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("drainguard.conf:2: unknown key 'quiet_period'");
  }

  @Test
  void aSingleKeySetTwiceInTheFile_isAnError() throws IOException {
    Path f = file("quiet-period = 3s", "quiet-period = 4s");
    assertThatThrownBy(() -> load(Map.of(), Map.of(), f))
        .hasMessageContaining("drainguard.conf:2: key 'quiet-period' set twice")
        .hasMessageContaining("drainguard.conf:1");
  }

  @Test
  void aLineWithoutEquals_isAnError() throws IOException {
    Path f = file("quiet-period 3s");
    assertThatThrownBy(() -> load(Map.of(), Map.of(), f))
        .hasMessageContaining("expected 'key = value'");
  }

  @ParameterizedTest(name = "{0} = ''{1}''")
  @CsvSource(
      delimiter = '|',
      value = {
        "QUIET_PERIOD | abc | from 0s to 1h",
        "QUIET_PERIOD | 2h | from 0s to 1h",
        "RECONCILE_INTERVAL | 0s | from 1s to 1h",
        "HEARTBEAT_INTERVAL | 3h | from 1s to 2h",
        "ACTION_GRACE | -5s | from 0s to 2h",
        "DEADLINE_POLICY | retain-forever | one of complete, expire",
        "DEADLINE_MARGIN | 2d | from 0s to 1d",
        "MAX_HOLD | 30s | from 1m to 2d",
        "COMMAND_TIMEOUT | 0s | from 1s to 1h",
        "RESIDUAL_BYTES | 2g | from 0 to 1073741824",
        "RESIDUAL_BYTES | lots | a byte count",
        "ASG_FROM_TAGS | maybe | true or false",
        "LOOPBACK_ONLY | 2 | true or false",
        "IMDS_ENDPOINT | 169.254.169.254 | an http:// or https:// URL",
        "AUTOSCALING_ENDPOINT | ftp://x | an http:// or https:// URL",
        "IMDS_POLL_INTERVAL | 10m | from 1s to 5m",
        "IMDS_STARTUP_TIMEOUT | 2h | from 0s to 1h",
        "LOG_LEVEL | loud | one of error, warn, info, debug, trace",
        "QUEUE_ROOT | relative/dir | an absolute directory path",
        "ASG_NAME | '   ' | a non-empty value",
      })
  void anInvalidValue_namesTheSettingItsSourceAndWhatIsAccepted(
      Setting s, String value, String accepted) {
    assertThatThrownBy(() -> load(flag(s, value), Map.of(), null))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(s.flag())
        .hasMessageContaining(s.env())
        .hasMessageContaining("from flag " + s.flag())
        .hasMessageContaining(accepted)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  @Test
  void anInvalidValueFromTheEnvironment_saysItCameFromThere() {
    assertThatThrownBy(() -> load(Map.of(), Map.of("DRAINGUARD_QUIET_PERIOD", "soon"), null))
        .hasMessageContaining("from env DRAINGUARD_QUIET_PERIOD");
  }

  @Test
  void anInvalidValueFromTheFile_namesTheFileAndLine() throws IOException {
    Path f = file("# comment", "quiet-period = soon");
    assertThatThrownBy(() -> load(Map.of(), Map.of(), f)).hasMessageContaining("drainguard.conf:2");
  }

  @ParameterizedTest
  @CsvSource({
    "250ms, PT0.25S",
    "10, PT10S",
    "10s, PT10S",
    "5m, PT5M",
    "2h, PT2H",
    "1d, PT24H",
    "PT90S, PT1M30S",
    "' 7 s ', PT7S"
  })
  void durations_acceptUnitsBareSecondsAndIso(String raw, String expected) {
    assertThat(Values.duration(raw)).isEqualTo(Duration.parse(expected));
  }

  @ParameterizedTest
  @CsvSource({"0, 0", "4096, 4096", "64k, 65536", "10MiB, 10485760", "1g, 1073741824"})
  void byteCounts_acceptBinarySuffixes(String raw, long expected) {
    assertThat(Values.bytes(raw)).isEqualTo(expected);
  }

  @ParameterizedTest
  @EnumSource(Setting.class)
  void everySetting_hasAFlagAnEnvVarAndAFileKeyDerivedFromOneName(Setting s) {
    assertThat(s.flag()).isEqualTo("--" + s.key());
    assertThat(s.env()).isEqualTo("DRAINGUARD_" + s.key().toUpperCase().replace('-', '_'));
    assertThat(s.description()).isNotBlank();
  }

  @Test
  void aQueueRoot_mayCarryRulesOfItsOwn_addedToTheGlobalGlobs() {
    Map<Setting, List<String>> flags = new java.util.EnumMap<>(Setting.class);
    flags.put(
        Setting.QUEUE_ROOT,
        List.of("/var/spool/rsyslog:ignore=*.qi,**/*.lock:residual=4k, /opt/cribl/state/queues"));
    flags.put(Setting.IGNORE_GLOB, List.of("{*.tmp,**/*.tmp}"));
    flags.put(Setting.RESIDUAL_BYTES, List.of("1k"));

    AgentConfig c = new ConfigLoader(flags, Map.of(), Optional.empty()).loadWithoutFile();

    assertThat(c.queueRoots())
        .containsExactly(
            new QueueRootSpec(
                Path.of("/var/spool/rsyslog"),
                List.of("{*.tmp,**/*.tmp}", "*.qi", "**/*.lock"),
                4096),
            new QueueRootSpec(
                Path.of("/opt/cribl/state/queues"), List.of("{*.tmp,**/*.tmp}"), 1024));
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource(
      delimiter = '|',
      value = {
        "/q:residual=lots | residual 'lots' is not a byte count",
        "/q:residual=2g | residual 2g is above 1073741824",
        "/q:residual=1:residual=2 | residual given twice",
        "/q:ignore=[x | ignore glob '[x' is malformed",
        "/q:ignore= | an empty ignore glob",
        "/q:ignore=*.qi:keep=1 | unknown rule 'keep=1'",
        "q:ignore=*.qi | 'q' is not an absolute path"
      })
  void aMalformedRootRule_isOneLineNamingTheOptionAndTheForm(String value, String why) {
    Map<Setting, List<String>> flags = Map.of(Setting.QUEUE_ROOT, List.of(value));
    assertThatThrownBy(() -> new ConfigLoader(flags, Map.of(), Optional.empty()).loadWithoutFile())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("invalid --queue-root")
        .hasMessageContaining(why)
        .hasMessageContaining("optionally followed by :ignore=GLOB[,GLOB...] and :residual=BYTES");
  }

  @Test
  void drainedWhen_mustNameOnlyConfiguredProbes() {
    assertThatThrownBy(
            () ->
                new ConfigLoader(
                        Map.of(Setting.DRAINED_WHEN, List.of("command")),
                        Map.of(),
                        Optional.empty())
                    .loadWithoutFile())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("names the command probe, which is off: set --queue-probe-command");
    assertThatThrownBy(
            () ->
                new ConfigLoader(
                        Map.of(Setting.CRIBL_TOKEN_FILE, List.of("/etc/drainguard/cribl.token")),
                        Map.of(),
                        Optional.empty())
                    .loadWithoutFile())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--cribl-api-url is not");
  }

  static AgentConfig loadFlags(Map<Setting, List<String>> flags) {
    return new ConfigLoader(flags, Map.of(), Optional.empty()).loadWithoutFile();
  }

  @Test
  void fleetMetricsAndStall_defaults_offDatadogFiveMinutes() {
    AgentConfig c = loadFlags(Map.of());
    assertThat(c.statsdAddress()).isEmpty();
    assertThat(c.statsdFlavor()).isEqualTo(StatsdFlavor.DATADOG);
    assertThat(c.stallAfter()).isEqualTo(Duration.ofMinutes(5));
  }

  @ParameterizedTest(name = "{0} -> {1}:{2}")
  @CsvSource({
    "8125, 127.0.0.1, 8125",
    "' 127.0.0.2:9125 ', 127.0.0.2, 9125",
    "[::1]:8125, 0:0:0:0:0:0:0:1, 8125",
    "10.0.0.5:8125, 10.0.0.5, 8125",
  })
  void statsdAddress_isALiteralAddressAndPort_aPortAloneIsLoopback(
      String raw, String address, int port) {
    InetSocketAddress a =
        loadFlags(flag(Setting.STATSD_ADDRESS, raw)).statsdAddress().orElseThrow();
    assertThat(a.getAddress().getHostAddress()).isEqualTo(address);
    assertThat(a.getPort()).isEqualTo(port);
    assertThat(a.isUnresolved()).isFalse();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        // a name would need DNS, which could itself leave the machine
        "localhost:8125",
        "statsd.internal:8125",
        // not a literal: InetAddress would look it up as a name
        "999.1.1.1:8125",
        "127.0.0.1",
        "127.0.0.1:0",
        "127.0.0.1:70000",
        "::1:8125",
        "[::1]8125",
        "[127.0.0.1]:8125",
        "udp://127.0.0.1:8125",
      })
  void statsdAddress_refusesWhatIsNotALiteralAddressAndPort(String raw) {
    assertThatThrownBy(() -> loadFlags(flag(Setting.STATSD_ADDRESS, raw)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("invalid --statsd-address")
        .hasMessageContaining("a literal IP address and port like 127.0.0.1:8125");
  }

  @Test
  void statsdAddress_underLoopbackOnly_mustBeLoopback() {
    Map<Setting, List<String>> flags = flag(Setting.STATSD_ADDRESS, "10.0.0.5:8125");
    flags.put(Setting.LOOPBACK_ONLY, List.of("true"));
    assertThatThrownBy(() -> loadFlags(flags))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "--statsd-address (env DRAINGUARD_STATSD_ADDRESS, file key statsd-address)"
                + " 10.0.0.5:8125 is not a loopback address: refused under --loopback-only,"
                + " where nothing may leave the machine");

    flags.put(Setting.STATSD_ADDRESS, List.of("[::1]:8125"));
    assertThat(loadFlags(flags).statsdAddress()).isPresent();
    flags.put(Setting.STATSD_ADDRESS, List.of("127.8.1.2:8125"));
    assertThat(loadFlags(flags).statsdAddress()).isPresent();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"etsy, ETSY", "DATADOG, DATADOG", "' telegraf', TELEGRAF"})
  void statsdFlavor_isOneOfTheThree(String raw, StatsdFlavor expected) {
    assertThat(loadFlags(flag(Setting.STATSD_FLAVOR, raw)).statsdFlavor()).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0}: {1}")
  @CsvSource({
    "statsd-flavor, graphite, 'one of etsy, datadog, telegraf'",
    "stall-after, 30s, from 1m to 1d",
    "stall-after, 2d, from 1m to 1d",
  })
  void fleetSettings_refuseValuesOutOfTheirRange(String key, String raw, String accepted) {
    Setting s = Setting.valueOf(key.toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
    assertThatThrownBy(() -> loadFlags(flag(s, raw)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(s.flag())
        .hasMessageContaining(accepted);
  }

  @Test
  void stallAfter_fromTheFile() throws IOException {
    assertThat(load(Map.of(), Map.of(), file("stall-after = 15m")).stallAfter())
        .isEqualTo(Duration.ofMinutes(15));
  }
}
