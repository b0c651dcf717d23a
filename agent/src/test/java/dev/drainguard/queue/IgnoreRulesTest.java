package dev.drainguard.queue;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IgnoreRulesTest {

  /** The documented semantics: java.nio globs against the path relative to the root. */
  @ParameterizedTest(name = "{0} vs {1} -> ignored={2}")
  @CsvSource({
    "*.lock, writer.lock, true",
    "*.lock, out1/writer.lock, false", // '*' does not cross directories
    "**/*.idx, out1/q.idx, true",
    "**/*.idx, out1/deep/q.idx, true",
    "**/*.idx, q.idx, false", // '**/' needs a directory part
    "'{*.idx,**/*.idx}', q.idx, true",
    "tmp/**, tmp/a/b, true",
    "tmp/**, out1/tmp, false",
    "out1/current, out1/current, true",
  })
  void ignores_matchesGlobAgainstPathRelativeToRoot(String glob, String relative, boolean ignored) {
    IgnoreRules rules = new IgnoreRules(Path.of("/q"), List.of(glob));

    assertThat(rules.ignores(Path.of(relative))).isEqualTo(ignored);
  }

  @ParameterizedTest
  @CsvSource({"a/b"})
  void ignores_noGlobs_ignoresNothing(String relative) {
    assertThat(new IgnoreRules(Path.of("/q"), List.of()).ignores(Path.of(relative))).isFalse();
  }
}
