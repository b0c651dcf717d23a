package dev.drainguard.cribl;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where Cribl is installed on this worker, and the environment its paths are expanded with.
 *
 * <p>A worker runs the configuration its group's leader deployed, unpacked under {@code
 * $CRIBL_HOME/local/cribl/} (Cribl Stream 4.14 docs, "Deploy Stream Configurations": "Worker Node |
 * $CRIBL_HOME/local/cribl/ (after pulling configurations)"), over the shipped defaults in {@code
 * $CRIBL_HOME/default/cribl/}. A single instance reads the same two directories.
 *
 * @param home {@code $CRIBL_HOME} as drainguard sees it: its own CRIBL_HOME, else /opt/cribl
 * @param env drainguard's environment, for the {@code $VAR} references Cribl allows in paths
 */
public record CriblHome(Path home, Map<String, String> env) {

  /** Where Cribl installs unless told otherwise (also where its bootstrap script installs). */
  public static final Path DEFAULT_HOME = Path.of("/opt/cribl");

  /** Cribl's default queue file path (pqPath, pq.path), relative to CRIBL_HOME. */
  public static final String QUEUES = "state/queues";

  /** Cribl's default staging location (stagePath) of non-streaming destinations. */
  static final String STAGING = "state/outputs/staging";

  /** Cribl's default dead-letter location (deadletterPath). */
  static final String DEAD_LETTER = "state/outputs/dead-letter";

  private static final Pattern VAR =
      Pattern.compile("\\$(?:\\{([A-Za-z_][A-Za-z0-9_]*)}|([A-Za-z_][A-Za-z0-9_]*))");

  public CriblHome {
    Objects.requireNonNull(home, "home");
    env = Map.copyOf(env);
  }

  /** Only the home: the environment may hold secrets and stays out of logs. */
  @Override
  public String toString() {
    return "CriblHome[" + home + "]";
  }

  /** CRIBL_HOME from {@code env} when set, else /opt/cribl. */
  public static CriblHome fromEnv(Map<String, String> env) {
    String set = env.get("CRIBL_HOME");
    Path home = set == null || set.isBlank() ? DEFAULT_HOME : Path.of(set.strip());
    return new CriblHome(home.toAbsolutePath().normalize(), env);
  }

  /** Today's default queue root: {@code $CRIBL_HOME/state/queues}. */
  public Path defaultQueues() {
    return home.resolve(QUEUES);
  }

  /**
   * The files Cribl loads for its sources and destinations, in the order they apply: defaults
   * first, the deployed (local) configuration over them.
   */
  List<Path> configFiles() {
    Path defaults = home.resolve("default/cribl");
    Path local = home.resolve("local/cribl");
    return List.of(
        defaults.resolve("outputs.yml"),
        defaults.resolve("inputs.yml"),
        local.resolve("outputs.yml"),
        local.resolve("inputs.yml"));
  }

  /** A path from Cribl's configuration, expanded; or why it cannot be. */
  sealed interface Expanded {
    record Resolved(Path path) implements Expanded {}

    record Unresolved(String why) implements Expanded {}
  }

  /**
   * Expands {@code $CRIBL_HOME} (to {@link #home}) and other {@code $VAR} or {@code ${VAR}}
   * references from {@link #env}. A variable drainguard's environment does not set, or a result
   * that is not an absolute path, cannot be resolved: the buffer is then unknown, never assumed
   * absent.
   */
  Expanded expand(String raw) {
    Matcher m = VAR.matcher(raw.strip());
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String name = m.group(1) != null ? m.group(1) : m.group(2);
      String value = name.equals("CRIBL_HOME") ? home.toString() : env.get(name);
      if (value == null) {
        return new Expanded.Unresolved(
            "'" + raw + "' uses $" + name + ", which drainguard's environment does not set");
      }
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    Path p;
    try {
      p = Path.of(out.toString());
    } catch (java.nio.file.InvalidPathException e) {
      return new Expanded.Unresolved("'" + raw + "' is not a path: " + e.getMessage());
    }
    if (!p.isAbsolute()) {
      return new Expanded.Unresolved("'" + raw + "' is not an absolute path");
    }
    return new Expanded.Resolved(p.normalize());
  }
}
