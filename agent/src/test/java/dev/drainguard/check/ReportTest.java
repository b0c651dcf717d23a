package dev.drainguard.check;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReportTest {

  static final List<Check> CHECKS =
      List.of(
          Check.pass("config", "settings valid (no config file)"),
          Check.fail("imds", "IMDSv2 at http://127.0.0.1:1: refused", "point --imds-endpoint"),
          Check.warn("inotify", "5 of 8", "raise it"),
          Check.skip("hook", "IMDS did not answer"));

  @Test
  void text_alignsTheColumns_indentsTheFix_andEndsWithTheSummary() {
    assertThat(Report.text(CHECKS))
        .isEqualTo(
            String.join(
                "\n",
                "PASS  config      settings valid (no config file)",
                "FAIL  imds        IMDSv2 at http://127.0.0.1:1: refused",
                "                  fix: point --imds-endpoint",
                "WARN  inotify     5 of 8",
                "                  fix: raise it",
                "SKIP  hook        skipped: IMDS did not answer",
                "1 passed, 1 warning, 1 failed, 1 skipped",
                ""));
  }

  @Test
  void json_isOneObjectWithTheCounts() throws IOException {
    JsonNode json = new ObjectMapper().readTree(Report.json(CHECKS));
    assertThat(json.get("checks")).hasSize(4);
    assertThat(json.get("checks").get(1).get("fix").asText()).isEqualTo("point --imds-endpoint");
    assertThat(json.get("checks").get(0).get("fix").isNull()).isTrue();
    assertThat(json.get("failed").asInt()).isEqualTo(1);
    assertThat(json.get("warnings").asInt()).isEqualTo(1);
  }

  @Test
  void anyFailed_onlyForAFail() {
    assertThat(Report.anyFailed(CHECKS)).isTrue();
    assertThat(Report.anyFailed(List.of(Check.warn("x", "y", null), Check.skip("z", "w"))))
        .isFalse();
  }
}
