package dev.drainguard.operator;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class OperatorTextTest {

  static Stream<Arguments> unsafe() {
    return Stream.of(
        Arguments.of("a line break, which would start a forged log line", "ok\n<3>x", "ok\\n<3>x"),
        Arguments.of("ESC, which starts a terminal escape sequence", "\u001b[2J", "\\u001b[2J"),
        Arguments.of("BEL and DEL", "a\u0007b\u007f", "a\\u0007b\\u007f"),
        Arguments.of("a C1 control (8-bit CSI)", "\u009b31m", "\\u009b31m"),
        Arguments.of("a bidirectional override", "abc\u202edef", "abc\\u202edef"),
        Arguments.of("the Unicode line separator", "a\u2028b", "a\\u2028b"),
        Arguments.of(
            "a quote, which would close a quoted log value", "say \"hi\"", "say \\\"hi\\\""),
        Arguments.of("a backslash", "C:\\temp", "C:\\\\temp"),
        Arguments.of("plain text, accents and CJK", "café 日本", "café 日本"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("unsafe")
  void clean_escapesWhatCouldForgeALineOrMoveACursor(String what, String in, String out) {
    assertThat(OperatorText.clean(in, 100)).isEqualTo(out);
  }

  @Test
  void clean_capsTheLengthAndMarksTheCut() {
    assertThat(OperatorText.clean("x".repeat(10), 10)).isEqualTo("x".repeat(10));
    assertThat(OperatorText.clean("x".repeat(11), 10)).isEqualTo("x".repeat(9) + "…");
    // an escape is never cut in half
    assertThat(OperatorText.clean("xxxxxxx\u001b", 10)).isEqualTo("xxxxxxx…");
    assertThat(OperatorText.clean("x".repeat(5000), OperatorText.MAX_REASON)).hasSize(500);
  }

  @Test
  void reason_namesAMissingOne() {
    assertThat(OperatorText.reason(null)).isEqualTo("no reason given");
    assertThat(OperatorText.reason("  ")).isEqualTo("no reason given");
  }

  @Test
  void display_keepsQuotesAndBackslashes_butEscapesControls() {
    assertThat(OperatorText.display("say \"hi\" \\u001b \u001b"))
        .isEqualTo("say \"hi\" \\u001b \\u001b");
  }
}
