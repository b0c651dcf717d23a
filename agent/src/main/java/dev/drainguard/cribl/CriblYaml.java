package dev.drainguard.cribl;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads one of Cribl's {@code outputs.yml} or {@code inputs.yml}: a mapping whose top-level key
 * ({@code outputs} or {@code inputs}) maps each ID to that source's or destination's settings
 * (Cribl Stream 4.14 docs, Reference / Config Files). Each entry keeps the line it starts on, so
 * that a setting to change can be named with its file and line.
 */
final class CriblYaml {

  /**
   * Larger than any real outputs.yml (a few hundred KB with hundreds of destinations), small enough
   * that a runaway file cannot take the agent's heap.
   */
  static final int MAX_CODE_POINTS = 16 * 1024 * 1024;

  private CriblYaml() {}

  /**
   * One source or destination: its ID, settings (strings, maps and lists), where it starts and the
   * line of each key ({@code pq.path} for a nested one).
   */
  record Entry(
      String id, Map<String, Object> settings, Path file, int line, Map<String, Integer> keyLines) {
    Entry {
      settings = Map.copyOf(settings);
      keyLines = Map.copyOf(keyLines);
    }

    String where() {
      return file + ":" + line;
    }

    /** {@code file:line} of {@code key} (dotted for a nested one), else of the entry. */
    String where(String key) {
      Integer l = keyLines.get(key);
      return l == null ? where() : file + ":" + l;
    }
  }

  /** The file cannot be read as Cribl's schema: the message names the file and line. */
  static final class MalformedException extends Exception {
    private static final long serialVersionUID = 1L;

    MalformedException(String message) {
      super(message);
    }
  }

  /**
   * The entries under {@code topKey}, in file order; none when the file is empty or has no such
   * key.
   */
  static List<Entry> read(Path file, String topKey) throws IOException, MalformedException {
    LoaderOptions options = new LoaderOptions();
    options.setCodePointLimit(MAX_CODE_POINTS);
    Node root;
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      root = new Yaml(new SafeConstructor(options)).compose(in);
    } catch (MarkedYAMLException e) {
      Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      String problem = e.getProblem() != null ? e.getProblem() : e.getMessage();
      throw new MalformedException(at(file, mark) + ": not valid YAML: " + oneLine(problem));
    } catch (YAMLException e) {
      throw new MalformedException(file + ": not valid YAML: " + oneLine(e.getMessage()));
    }
    if (root == null) {
      return List.of();
    }
    MappingNode top = mapping(root, file, "the file");
    Node entries = null;
    for (NodeTuple t : top.getValue()) {
      if (topKey.equals(scalar(t.getKeyNode()))) {
        entries = t.getValueNode();
      }
    }
    if (entries == null || isNull(entries)) {
      return List.of();
    }
    List<Entry> out = new ArrayList<>();
    List<String> seen = new ArrayList<>();
    for (NodeTuple t : mapping(entries, file, "'" + topKey + "'").getValue()) {
      String id = scalar(t.getKeyNode());
      if (id == null) {
        throw new MalformedException(
            at(file, t.getKeyNode().getStartMark()) + ": an ID under '" + topKey + "' is not text");
      }
      if (seen.contains(id)) {
        throw new MalformedException(
            at(file, t.getKeyNode().getStartMark()) + ": '" + id + "' is defined twice");
      }
      seen.add(id);
      Map<String, Integer> lines = new LinkedHashMap<>();
      Map<String, Object> settings =
          isNull(t.getValueNode())
              ? Map.of()
              : map(mapping(t.getValueNode(), file, topKey + "." + id), "", lines);
      out.add(new Entry(id, settings, file, t.getKeyNode().getStartMark().getLine() + 1, lines));
    }
    return out;
  }

  private static MappingNode mapping(Node n, Path file, String what) throws MalformedException {
    if (n instanceof MappingNode m) {
      return m;
    }
    throw new MalformedException(
        at(file, n.getStartMark()) + ": " + what + " should be a mapping of keys to values");
  }

  private static boolean isNull(Node n) {
    return n instanceof ScalarNode && n.getTag().getValue().endsWith(":null");
  }

  private static String scalar(Node n) {
    return n instanceof ScalarNode s ? s.getValue() : null;
  }

  /**
   * Scalars as their text (Cribl's values are compared as text), mappings and lists nested; the
   * line of each mapping key goes to {@code lines} under its dotted name.
   */
  private static Map<String, Object> map(MappingNode m, String prefix, Map<String, Integer> lines) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (NodeTuple t : m.getValue()) {
      String key = scalar(t.getKeyNode());
      if (key == null) {
        continue;
      }
      lines.putIfAbsent(prefix + key, t.getKeyNode().getStartMark().getLine() + 1);
      Object value = value(t.getValueNode(), prefix + key + ".", lines);
      if (value != null) {
        out.put(key, value);
      }
    }
    return out;
  }

  private static Object value(Node n, String prefix, Map<String, Integer> lines) {
    if (n instanceof MappingNode m) {
      return map(m, prefix, lines);
    }
    if (n instanceof SequenceNode s) {
      List<Object> out = new ArrayList<>();
      for (Node item : s.getValue()) {
        Object v = value(item, prefix, new LinkedHashMap<>());
        if (v != null) {
          out.add(v);
        }
      }
      return out;
    }
    return isNull(n) ? null : scalar(n);
  }

  private static String at(Path file, Mark mark) {
    return mark == null ? file.toString() : file + ":" + (mark.getLine() + 1);
  }

  private static String oneLine(String s) {
    return s == null ? "" : s.strip().replaceAll("\\s*\\n\\s*", " ");
  }
}
