package dev.drainguard.cli;

import dev.drainguard.config.Setting;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Adds one option per {@link Setting} to a command, so flags, environment variables and file keys
 * come from one table. A true-or-false setting's flag may stand alone (true) or take a value
 * ({@code --loopback-only=false}). Values stay strings here; {@link
 * dev.drainguard.config.ConfigLoader} validates them once, whatever their source.
 */
final class SettingOptions {

  private SettingOptions() {}

  static void addTo(CommandSpec spec) {
    for (Setting s : Setting.values()) {
      String def = s.defaultValue() == null ? "" : " Default: " + s.defaultValue() + ".";
      OptionSpec.Builder option =
          OptionSpec.builder(s.flag())
              .paramLabel(s.label())
              .type(s.multiple() ? String[].class : String.class)
              .description(s.description() + def + " Env: " + s.env() + ".");
      if (s.isBoolean()) {
        // --flag alone is true; --flag=false, --flag true and the env and file values still work
        option.arity("0..1").fallbackValue("true");
      }
      spec.addOption(option.build());
    }
  }

  /** The values given on the command line, by setting. */
  static Map<Setting, List<String>> given(CommandSpec spec) {
    Map<Setting, List<String>> out = new EnumMap<>(Setting.class);
    for (Setting s : Setting.values()) {
      Object v = spec.findOption(s.flag()).getValue();
      if (v instanceof String[] values && values.length > 0) {
        out.put(s, List.of(values));
      } else if (v instanceof String value) {
        out.put(s, new ArrayList<>(List.of(value)));
      }
    }
    return out;
  }
}
