package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drainguard.config.AgentConfig;
import dev.drainguard.config.ConfigLoader;
import dev.drainguard.config.Setting;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * Every true-or-false option works alone (true) and with {@code =true} or {@code =false}, parsed by
 * {@link DrainguardCommand#commandLine()}: the settings (enumerated from {@link Setting}, so a new
 * one cannot be missed) and each command's own flags (enumerated from the command tree). Guards
 * against "Expected parameter for option '--loopback-only' but found '--control-socket'".
 */
class BooleanOptionsTest {

  @TempDir Path dir;

  /** Every boolean setting, on each command that takes the settings. */
  static Stream<Arguments> booleanSettings() {
    return Arrays.stream(Setting.values())
        .filter(Setting::isBoolean)
        .flatMap(s -> Stream.of(Arguments.of("run", s), Arguments.of("check", s)));
  }

  /** The configuration {@code args} give, with {@code env} and {@code file} under them. */
  static AgentConfig load(Map<String, String> env, Path file, String... args) {
    ParseResult parsed = DrainguardCommand.commandLine().parseArgs(args);
    CommandSpec command = parsed.subcommand().commandSpec();
    return new ConfigLoader(SettingOptions.given(command), env, Optional.of(file)).load();
  }

  /** With an empty config file, so that /etc/drainguard/drainguard.conf is never read. */
  AgentConfig load(String... args) throws IOException {
    Path empty = dir.resolve("empty.conf");
    if (!Files.exists(empty)) {
      Files.createFile(empty);
    }
    return load(Map.of(), empty, args);
  }

  @Test
  void thereAreBooleanSettings_andEveryTrueOrFalseDefaultIsOne() {
    assertThat(Arrays.stream(Setting.values()).filter(Setting::isBoolean))
        .contains(Setting.LOOPBACK_ONLY, Setting.PROTECT_WHILE_BUSY, Setting.ASG_FROM_TAGS);
    for (Setting s : Setting.values()) {
      if ("true".equals(s.defaultValue()) || "false".equals(s.defaultValue())) {
        assertThat(s.isBoolean()).as(s.flag()).isTrue();
      }
    }
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("booleanSettings")
  void aBooleanSetting_aloneIsTrue_andTakesTrueOrFalse(String command, Setting s)
      throws IOException {
    AgentConfig yes = load(command, s.flag() + "=true", "--log-level", "debug");
    AgentConfig no = load(command, s.flag() + "=false", "--log-level", "debug");
    assertThat(no).as("the value reaches the configuration").isNotEqualTo(yes);

    // alone, followed by another option (the reported failure) and at the end of the line
    assertThat(load(command, s.flag(), "--log-level", "debug")).isEqualTo(yes);
    assertThat(load(command, "--log-level", "debug", s.flag())).isEqualTo(yes);
    // the separate form, as README and scripts write it
    assertThat(load(command, s.flag(), "false", "--log-level", "debug")).isEqualTo(no);
    assertThat(load(command, s.flag(), "true", "--log-level", "debug")).isEqualTo(yes);

    // environment and file keys take a value, as before; a flag alone still wins over both
    Path file = Files.writeString(dir.resolve("drainguard.conf"), s.key() + " = false\n");
    Map<String, String> env = Map.of(s.env(), "false");
    assertThat(load(env, file, command, "--log-level", "debug"))
        .isEqualTo(load(Map.of(), file, command, s.flag() + "=false", "--log-level", "debug"));
    assertThat(load(env, file, command, s.flag(), "--log-level", "debug"))
        .isEqualTo(load(Map.of(), file, command, s.flag() + "=true", "--log-level", "debug"));
    Path fileTrue = Files.writeString(dir.resolve("true.conf"), s.key() + " = true\n");
    assertThat(load(Map.of(), fileTrue, command, "--log-level", "debug"))
        .isEqualTo(load(Map.of(), fileTrue, command, s.flag(), "--log-level", "debug"))
        .isNotEqualTo(
            load(Map.of(), fileTrue, command, s.flag() + "=false", "--log-level", "debug"));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("booleanSettings")
  void aBooleanSetting_refusesAnythingElse_namingTheFlag(String command, Setting s)
      throws IOException {
    assertThatThrownBy(() -> load(command, s.flag() + "=maybe"))
        .hasMessageContaining("invalid " + s.flag())
        .hasMessageContaining("'maybe'")
        .hasMessageContaining("expected true or false");
  }

  /** Each command's own boolean options, help and version aside. */
  static Stream<Arguments> commandFlags() {
    List<Arguments> out = new ArrayList<>();
    for (var e : DrainguardCommand.commandLine().getSubcommands().entrySet()) {
      for (OptionSpec o : e.getValue().getCommandSpec().options()) {
        if (o.typeInfo().isBoolean() && !o.usageHelp() && !o.versionHelp()) {
          out.add(Arguments.of(e.getKey(), o.longestName()));
        }
      }
    }
    return out.stream();
  }

  @Test
  void theCommandsHaveFlagsOfTheirOwn() {
    assertThat(commandFlags().map(a -> a.get()[0] + " " + a.get()[1]))
        .contains("check --json", "check --probe-heartbeat", "demo --json", "release --force");
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("commandFlags")
  void aCommandsOwnFlag_aloneIsTrue_andTakesTrueOrFalse(String command, String flag) {
    assertThat(flagValue(command, flag, flag)).isTrue();
    assertThat(flagValue(command, flag, flag + "=true")).isTrue();
    assertThat(flagValue(command, flag, flag + "=false")).isFalse();
    assertThat(flagValue(command, flag)).isFalse();
  }

  /** The value of {@code command}'s option {@code flag} once {@code args} are parsed. */
  private static boolean flagValue(String command, String flag, String... args) {
    List<String> all = new ArrayList<>(List.of(command));
    all.addAll(List.of(args));
    ParseResult parsed = DrainguardCommand.commandLine().parseArgs(all.toArray(String[]::new));
    return parsed.subcommand().commandSpec().findOption(flag).getValue();
  }

  @Test
  void loopbackOnlyAlone_beforeAnotherOption_runsTheCommand_throughExecute() {
    // the reported line: a usage error (exit 2) before; now the guard refuses the real IMDS
    MainTest.Run r =
        MainTest.execute(
            "run",
            "--loopback-only",
            "--imds-endpoint",
            "http://169.254.169.254",
            "--control-socket",
            dir.resolve("control.sock").toString());
    assertThat(r.code()).as(r.err()).isEqualTo(ExitCodes.CONFIG);
    assertThat(r.err()).contains("loopback-only mode refused the IMDS endpoint");

    MainTest.Run check =
        MainTest.execute(
            "check",
            "--json",
            "--loopback-only",
            "--imds-endpoint",
            "http://169.254.169.254",
            "--queue-root",
            dir.toString());
    assertThat(check.code()).as(check.err()).isEqualTo(ExitCodes.FAILURE);
    assertThat(check.out()).contains("loopback-only mode refused the IMDS endpoint");
  }
}
