package dev.drainguard.config;

import dev.drainguard.queue.QueueRootSpec;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code --queue-root} value: {@code /dir}, optionally followed by rules of its own, {@code
 * :ignore=GLOB[,GLOB...]} (repeatable; added to the global ignore globs) and {@code
 * :residual=BYTES} (instead of the global residual allowance). A path that itself holds a colon is
 * fine as long as no {@code :ignore=} or {@code :residual=} follows it.
 */
final class RootRules {

  private static final Pattern FIRST_RULE = Pattern.compile(":(ignore|residual)=");

  private RootRules() {}

  /**
   * @throws IllegalArgumentException saying what is wrong with {@code value}
   */
  static QueueRootSpec parse(
      String value, List<String> globalGlobs, long globalResidual, long maxResidual) {
    Matcher m = FIRST_RULE.matcher(value);
    String dir = m.find() ? value.substring(0, m.start()) : value;
    Path root = Path.of(dir.strip());
    if (dir.isBlank() || !root.isAbsolute()) {
      throw new IllegalArgumentException("'" + dir + "' is not an absolute path");
    }
    List<String> globs = new ArrayList<>(globalGlobs);
    OptionalLong residual = OptionalLong.empty();
    if (dir.length() < value.length()) {
      for (String rule : value.substring(dir.length() + 1).split(":")) {
        int eq = rule.indexOf('=');
        String key = eq < 0 ? rule : rule.substring(0, eq).strip();
        String arg = eq < 0 ? "" : rule.substring(eq + 1).strip();
        switch (key) {
          case "ignore" -> globs.addAll(globs(arg));
          case "residual" -> {
            if (residual.isPresent()) {
              throw new IllegalArgumentException("residual given twice");
            }
            residual = OptionalLong.of(residual(arg, maxResidual));
          }
          default -> throw new IllegalArgumentException("unknown rule '" + rule + "'");
        }
      }
    }
    return new QueueRootSpec(root.normalize(), globs, residual.orElse(globalResidual));
  }

  private static List<String> globs(String arg) {
    List<String> out = new ArrayList<>();
    for (String glob : Values.splitList(arg)) {
      if (glob.isEmpty()) {
        throw new IllegalArgumentException("an empty ignore glob");
      }
      try {
        FileSystems.getDefault().getPathMatcher("glob:" + glob);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("ignore glob '" + glob + "' is malformed");
      }
      out.add(glob);
    }
    return out;
  }

  private static long residual(String arg, long max) {
    long bytes;
    try {
      bytes = Values.bytes(arg);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("residual '" + arg + "' is not a byte count");
    }
    if (bytes > max) {
      throw new IllegalArgumentException("residual " + arg + " is above " + max);
    }
    return bytes;
  }
}
