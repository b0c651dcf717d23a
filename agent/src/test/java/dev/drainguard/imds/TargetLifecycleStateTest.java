package dev.drainguard.imds;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class TargetLifecycleStateTest {

  static Stream<Arguments> rawValues() {
    return Stream.of(
        Arguments.of("InService", TargetLifecycleState.IN_SERVICE),
        Arguments.of("Terminated", TargetLifecycleState.TERMINATED),
        Arguments.of("Standby", TargetLifecycleState.STANDBY),
        Arguments.of("Detached", TargetLifecycleState.DETACHED),
        Arguments.of("Warmed:Hibernated", TargetLifecycleState.WARMED),
        Arguments.of("Warmed:Stopped", TargetLifecycleState.WARMED),
        Arguments.of("Warmed:Running", TargetLifecycleState.WARMED),
        Arguments.of("Warmed:Terminated", TargetLifecycleState.WARMED),
        // IMDS bodies may carry a trailing newline; surrounding whitespace is not part of the value
        Arguments.of("Terminated\n", TargetLifecycleState.TERMINATED),
        Arguments.of("  InService \r\n", TargetLifecycleState.IN_SERVICE),
        Arguments.of("\tWarmed:Hibernated ", TargetLifecycleState.WARMED),
        // Unknown values stay visible as UNKNOWN instead of being guessed
        Arguments.of("inservice", TargetLifecycleState.UNKNOWN),
        Arguments.of("TERMINATED", TargetLifecycleState.UNKNOWN),
        Arguments.of("Terminating:Wait", TargetLifecycleState.UNKNOWN),
        Arguments.of("Pending", TargetLifecycleState.UNKNOWN),
        Arguments.of("warmed:Hibernated", TargetLifecycleState.UNKNOWN),
        Arguments.of("<html>502 Bad Gateway</html>", TargetLifecycleState.UNKNOWN),
        Arguments.of("", TargetLifecycleState.UNKNOWN),
        Arguments.of("   ", TargetLifecycleState.UNKNOWN),
        Arguments.of(null, TargetLifecycleState.UNKNOWN));
  }

  @ParameterizedTest(name = "[{index}] \"{0}\" -> {1}")
  @MethodSource("rawValues")
  void parse_rawImdsValue_state(String raw, TargetLifecycleState expected) {
    assertThat(TargetLifecycleState.parse(raw)).isEqualTo(expected);
  }
}
