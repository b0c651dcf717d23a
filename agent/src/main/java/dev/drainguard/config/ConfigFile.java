package dev.drainguard.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads {@code /etc/drainguard/drainguard.conf}: one {@code key = value} per line, {@code #}
 * comments, keys as the flags without their dashes. An unknown key is an error, so a typo never
 * silently leaves a default in force.
 */
final class ConfigFile {

  private ConfigFile() {}

  /** Values by setting, with the line each came from (for messages). */
  record Entry(String value, String origin) {}

  static Map<Setting, List<Entry>> read(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ConfigException(
          "config file " + file + " does not exist: create it or point --config elsewhere");
    } catch (IOException e) {
      throw new ConfigException("config file " + file + " cannot be read: " + e.getMessage());
    }
    Map<Setting, List<Entry>> out = new HashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String origin = file + ":" + (i + 1);
      int eq = line.indexOf('=');
      if (eq <= 0) {
        throw new ConfigException(origin + ": expected 'key = value', found '" + line + "'");
      }
      String key = line.substring(0, eq).strip();
      String value = unquote(line.substring(eq + 1).strip());
      Setting s = byKey(key);
      if (s == null) {
        throw new ConfigException(
            origin + ": unknown key '" + key + "' (see 'drainguard run --help' for the keys)");
      }
      List<Entry> entries = out.computeIfAbsent(s, k -> new ArrayList<>());
      if (!s.multiple() && !entries.isEmpty()) {
        throw new ConfigException(
            origin + ": key '" + key + "' set twice (first at " + entries.get(0).origin() + ")");
      }
      entries.add(new Entry(value, origin));
    }
    return out;
  }

  private static Setting byKey(String key) {
    for (Setting s : Setting.values()) {
      if (s.key().equals(key)) {
        return s;
      }
    }
    return null;
  }

  private static String unquote(String v) {
    if (v.length() >= 2
        && ((v.startsWith("\"") && v.endsWith("\"")) || (v.startsWith("'") && v.endsWith("'")))) {
      return v.substring(1, v.length() - 1);
    }
    return v;
  }
}
