package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.config.Setting;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad input: every option of {@code drainguard run} given an invalid value stops the agent with
 * exit code 78 and one line that names the option and says what is accepted.
 */
class ConfigFaultTest {

  /** Each setting, a value it must refuse, and what the message must say is accepted. */
  static Stream<Arguments> invalidValues() {
    return Stream.of(
        Arguments.of(Setting.QUEUE_ROOT, "relative/queues", "an absolute directory path"),
        Arguments.of(Setting.QUEUE_PROBE_COMMAND, " ", "a non-empty value"),
        Arguments.of(Setting.CRIBL_API_URL, "127.0.0.1:9000", "an http:// or https:// URL"),
        Arguments.of(Setting.CRIBL_TOKEN_FILE, "token", "an absolute path"),
        Arguments.of(Setting.CRIBL_WORKER_PROCESSES, "0", "a whole number from 1 to 256"),
        Arguments.of(Setting.PROBE_INTERVAL, "500ms", "from 1s to 1h"),
        Arguments.of(Setting.PROBE_TIMEOUT, "1h", "from 1s to 10m"),
        Arguments.of(Setting.DRAINED_WHEN, "rsyslog", "all, any, or probe names from files"),
        // Accepted by the config before the fix: the agent then failed at start, exit 1, with a
        // stack trace instead of this line.
        Arguments.of(Setting.IGNORE_GLOB, "**/[unclosed", "a glob like **/*.lock"),
        Arguments.of(Setting.RESIDUAL_BYTES, "2g", "from 0 to 1073741824"),
        Arguments.of(Setting.QUIET_PERIOD, "soon", "from 0s to 1h"),
        Arguments.of(Setting.RECONCILE_INTERVAL, "500ms", "from 1s to 1h"),
        Arguments.of(Setting.HEARTBEAT_INTERVAL, "3h", "from 1s to 2h"),
        Arguments.of(Setting.ACTION_GRACE, "-5s", "from 0s to 2h"),
        Arguments.of(Setting.DEADLINE_POLICY, "sometimes", "one of complete, expire, retain"),
        Arguments.of(Setting.DEADLINE_MARGIN, "2d", "from 0s to 1d"),
        Arguments.of(Setting.MAX_HOLD, "30s", "from 1m to 2d"),
        Arguments.of(Setting.BEFORE_COMPLETE_COMMAND, " ", "a non-empty value"),
        Arguments.of(Setting.ON_TERMINATION_COMMAND, " ", "a non-empty value"),
        Arguments.of(Setting.COMMAND_TIMEOUT, "0s", "from 1s to 1h"),
        Arguments.of(Setting.PROTECT_WHILE_BUSY, "maybe", "true or false"),
        Arguments.of(Setting.PROTECT_THRESHOLD, "2048g", "from 0 to 1099511627776"),
        Arguments.of(Setting.PROTECT_AFTER, "2h", "from 0s to 1h"),
        Arguments.of(Setting.PROTECT_INTERVAL, "5s", "from 10s to 1d"),
        Arguments.of(Setting.ASG_NAME, " ", "a non-empty value"),
        Arguments.of(Setting.ASG_FROM_TAGS, "sometimes", "true or false"),
        Arguments.of(Setting.HOOK_NAME, " ", "a non-empty value"),
        Arguments.of(Setting.REGION, " ", "a non-empty value"),
        Arguments.of(Setting.IMDS_ENDPOINT, "ftp://169.254.169.254", "an http:// or https:// URL"),
        Arguments.of(Setting.AUTOSCALING_ENDPOINT, "not a url", "an http:// or https:// URL"),
        Arguments.of(Setting.IMDS_POLL_INTERVAL, "10m", "from 1s to 5m"),
        Arguments.of(Setting.IMDS_STARTUP_TIMEOUT, "2h", "from 0s to 1h"),
        Arguments.of(Setting.LOOPBACK_ONLY, "perhaps", "true or false"),
        Arguments.of(Setting.LOG_LEVEL, "loud", "one of error, warn, info, debug"),
        Arguments.of(Setting.CONTROL_SOCKET, "control.sock", "an absolute path"),
        Arguments.of(Setting.CONTROL_GROUP, "Operators!", "a group name"),
        Arguments.of(Setting.STATE_DIRECTORY, "var/lib/drainguard", "an absolute path"),
        Arguments.of(Setting.METRICS_PORT, "70000", "a port from 1 to 65535"),
        Arguments.of(Setting.METRICS_BIND, "localhost", "a literal IPv4 or IPv6 address"),
        Arguments.of(Setting.STATSD_ADDRESS, "localhost:8125", "a literal IP address and port"),
        Arguments.of(Setting.STATSD_FLAVOR, "graphite", "one of etsy, datadog, telegraf"),
        Arguments.of(Setting.STALL_AFTER, "10s", "from 1m to 1d"),
        Arguments.of(Setting.METRICS_ALLOW_REMOTE, "perhaps", "true or false"));
  }

  /**
   * Settings whose every value is valid: none. (Command, group, hook and region settings accept any
   * non-empty text, and are tested with a blank one; a wrong but well-formed name shows when Auto
   * Scaling is asked, which {@code drainguard check} does.)
   */
  static final Map<Setting, String> ANY_VALUE_ACCEPTED = Map.of();

  @ParameterizedTest(name = "--{0} {1}")
  @MethodSource("invalidValues")
  void anInvalidValue_exits78_withOneLineNamingTheOptionAndWhatIsAccepted(
      Setting setting, String value, String accepted) {
    MainTest.Run r = MainTest.execute("run", setting.flag(), value);

    assertThat(r.code()).as(r.err()).isEqualTo(78);
    String message = r.err().strip();
    assertThat(message.lines()).as(message).hasSize(1);
    assertThat(message).contains(setting.flag()).contains(accepted);
  }

  @Test
  void everySetting_isCoveredByTheTable() {
    Set<Setting> covered =
        invalidValues().map(a -> (Setting) a.get()[0]).collect(Collectors.toSet());
    covered.addAll(ANY_VALUE_ACCEPTED.keySet());
    assertThat(covered).containsExactlyInAnyOrderElementsOf(EnumSet.allOf(Setting.class));
    assertThat(Arrays.stream(Setting.values())).hasSize(covered.size());
  }
}
