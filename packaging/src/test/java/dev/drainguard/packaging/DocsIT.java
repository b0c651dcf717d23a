package dev.drainguard.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.cli.DrainguardCommand;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** The packaged man page and bash completion, read by man and bash. */
class DocsIT {

  @TempDir static Path root;

  @BeforeAll
  static void unpack() {
    Pkg.extractDeb(root);
  }

  @Test
  void theManPageFormatsWithoutAWarningAndDocumentsEveryCommandAndOption() {
    Pkg.requireTool("groff");
    Path page = root.resolve("usr/share/man/man1/drainguard.1.gz");
    Map<String, String> env = Pkg.baseEnv();
    env.put("MANWIDTH", "100");

    Pkg.Result lint =
        Pkg.run(env, "sh", "-c", "zcat \"$0\" | groff -man -Tutf8 -ww -z", page.toString()).ok();
    assertThat(lint.err()).isEmpty();
    String text =
        Pkg.run(env, "sh", "-c", "zcat \"$0\" | groff -man -Tascii -P-c -P-b -P-u", page.toString())
            .ok()
            .out();

    assertThat(text).contains("NAME", "SYNOPSIS", "COMMANDS", "EXIT STATUS", "FILES");
    CommandLine cl = DrainguardCommand.commandLine();
    for (Map.Entry<String, CommandLine> sub : cl.getSubcommands().entrySet()) {
      assertThat(text).contains("drainguard " + sub.getKey());
      for (OptionSpec o : sub.getValue().getCommandSpec().options()) {
        assertThat(text)
            .as("option %s of %s", o.longestName(), sub.getKey())
            .contains(o.longestName());
      }
    }
  }

  @Test
  void bashCompletesCommandsAndOptions() {
    Pkg.requireTool("bash");
    Path completion = root.resolve("usr/share/bash-completion/completions/drainguard");
    String complete =
        "source \"$0\"; COMP_WORDS=($1); COMP_CWORD=$2; COMP_LINE=\"$1\"; COMP_POINT=${#COMP_LINE};"
            + " _complete_drainguard; printf '%s\\n' \"${COMPREPLY[@]}\"";

    assertThat(
            Pkg.run("bash", "-c", complete, completion.toString(), "drainguard st", "1")
                .ok()
                .lines())
        .containsExactly("status");
    assertThat(
            Pkg.run("bash", "-c", complete, completion.toString(), "drainguard run --queue", "2")
                .ok()
                .lines())
        .contains("--queue-root");
  }
}
