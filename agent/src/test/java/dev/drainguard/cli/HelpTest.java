package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The help text as a terminal shows it, through {@link DrainguardCommand#commandLine()}: guards
 * against command summaries cut mid-sentence ("hold Keep holding the termination even when the
 * queues have drained, until") and descriptions that wrap raggedly ("…still hold\ndata,\nand
 * completes").
 */
class HelpTest {

  @TempDir Path dir;

  /** picocli's usage width, and a terminal's. */
  static final int WIDTH = 80;

  /** {@code --help} of the top command and of every command under it. */
  static Stream<String> commands() {
    List<String> out = new ArrayList<>(List.of(""));
    out.addAll(DrainguardCommand.commandLine().getSubcommands().keySet());
    return out.stream();
  }

  static String help(String command) {
    MainTest.Run r =
        command.isEmpty() ? MainTest.execute("--help") : MainTest.execute(command, "--help");
    assertThat(r.code()).as(r.err()).isZero();
    return r.out();
  }

  @Test
  void topHelp_listsEachCommandOnOneLine_withASummaryThatEndsItsSentence() {
    String help = help("");
    List<String> lines = help.lines().toList();
    int start = lines.indexOf("Commands:") + 1;
    Map<String, CommandLine> subcommands = DrainguardCommand.commandLine().getSubcommands();
    List<String> listed = lines.subList(start, start + subcommands.size());
    // the line after the list is not a continuation of the last summary
    assertThat(lines.get(start + subcommands.size())).isEmpty();

    List<String> names = new ArrayList<>(subcommands.keySet());
    for (int i = 0; i < listed.size(); i++) {
      String line = listed.get(i);
      assertThat(line).as("one line per command").startsWith("  " + names.get(i) + " ");
      assertThat(line.length()).as(line).isLessThanOrEqualTo(WIDTH);
      String summary = line.substring(2 + names.get(i).length()).strip();
      assertThat(summary).as("a whole sentence: " + line).endsWith(".");
      CommandSpec spec = subcommands.get(names.get(i)).getCommandSpec();
      String[] source =
          spec.usageMessage().header().length > 0
              ? spec.usageMessage().header()
              : spec.usageMessage().description();
      assertThat(source).as("the summary is all of it, not its first line").hasSize(1);
      assertThat(summary).isEqualTo(source[0]);
    }
  }

  @Test
  void topHelp_descriptionWrapsAtItsOwnLineEnds() {
    String help = help("");
    assertThat(help)
        .contains(
            "\nHolds an EC2 Auto Scaling termination while local persistent queues still\n"
                + "hold data, and completes the lifecycle action the moment they have drained.\n");
  }

  @ParameterizedTest(name = "drainguard {0} --help")
  @MethodSource("commands")
  void everyHelpLine_fitsTheWidth_andEveryDescriptionLineIsShownWhole(String command) {
    String help = help(command);
    for (String line : help.lines().toList()) {
      assertThat(line.length()).as("%s: %s", command, line).isLessThanOrEqualTo(WIDTH);
    }
    CommandLine cl = DrainguardCommand.commandLine();
    CommandSpec spec =
        command.isEmpty() ? cl.getCommandSpec() : cl.getSubcommands().get(command).getCommandSpec();
    List<String> shown = help.lines().map(String::strip).toList();
    // a source line that picocli had to wrap would be split over two printed lines
    List<String> source = new ArrayList<>(List.of(spec.usageMessage().header()));
    source.addAll(List.of(spec.usageMessage().description()));
    for (String line : source) {
      assertThat(shown)
          .as("drainguard %s --help", command)
          .contains(line.replace("%n", "").strip());
    }
  }

  @ParameterizedTest(name = "{0}: {1}")
  @CsvSource({
    "127.0.0.1, accepted",
    "127.1.2.3, accepted",
    "[::1], accepted",
    "localhost, refused",
    "169.254.169.254, refused",
    "10.0.0.1, refused"
  })
  void loopbackOnlyHelp_saysWhichHostsPass_asTheGuardDecides(String host, String verdict)
      throws IOException {
    assertThat(help("run").replaceAll("\\s+", " "))
        .contains(
            "whose host is not a literal loopback address, 127.0.0.0/8 or ::1 ([::1] in a URL); a"
                + " host name is refused, localhost too, because looking it up could itself leave"
                + " the machine.");
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    String endpoint = "http://" + host + ":" + closedPort;
    MainTest.Run r =
        MainTest.execute(
            "check",
            "--loopback-only",
            "--imds-endpoint",
            endpoint,
            "--queue-root",
            dir.toString());
    String imds = r.out().lines().filter(l -> l.startsWith("FAIL  imds")).findFirst().orElseThrow();
    if (verdict.equals("refused")) {
      assertThat(imds).contains("loopback-only mode refused the IMDS endpoint " + endpoint);
    } else {
      // let through, and then nothing answers on the closed port
      assertThat(imds).doesNotContain("refused the IMDS endpoint").contains(endpoint);
    }
  }
}
