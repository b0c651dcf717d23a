package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.config.Setting;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Keeps the README's configuration reference true to the code. */
class ReadmeTest {

  static List<String> readme() throws IOException {
    Path p = Path.of("..", "README.md");
    return Files.readAllLines(p);
  }

  @ParameterizedTest
  @EnumSource(Setting.class)
  void everySetting_hasARowWithItsEnvironmentVariableFileKeyAndDefault(Setting s)
      throws IOException {
    String row =
        readme().stream()
            .filter(l -> l.startsWith("| `" + s.flag() + "` |"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("README has no row for " + s.flag()));
    assertThat(row).contains("`" + s.env() + "`").contains("| `" + s.key() + "` |");
    if (s.defaultValue() != null) {
      assertThat(row).contains("| `" + s.defaultValue() + "` |");
    } else {
      assertThat(row).contains("| — |");
    }
  }

  @org.junit.jupiter.api.Test
  void theFirstTwoCommands_areTheDemoAndTheTests() throws IOException {
    List<String> commands =
        readme().stream().filter(l -> l.startsWith("./")).map(String::strip).toList();
    assertThat(commands.get(0)).startsWith("./drainguard demo");
    assertThat(commands.get(1)).startsWith("./mvnw verify");
  }
}
