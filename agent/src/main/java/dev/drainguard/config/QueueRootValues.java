package dev.drainguard.config;

import dev.drainguard.cribl.AutoResolution;
import dev.drainguard.cribl.AutoRoots;
import dev.drainguard.cribl.CriblHome;
import dev.drainguard.queue.QueueRootSpec;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code --queue-root}: directories with their rules, and {@code auto} (the directories Cribl's
 * configuration on this worker names, see {@link AutoRoots}). Unset, it is {@code auto} when
 * Cribl's home ({@code CRIBL_HOME}, else /opt/cribl) exists, else {@code $CRIBL_HOME/state/queues}
 * as before.
 *
 * @param roots every root to watch, explicit ones first
 * @param criblHome Cribl's home when it exists or {@code auto} was asked for
 * @param auto what {@code auto} resolved to at load, when it is in force
 */
record QueueRootValues(
    List<QueueRootSpec> roots, Optional<CriblHome> criblHome, Optional<AutoResolution> auto) {

  static final String AUTO = "auto";

  QueueRootValues {
    roots = List.copyOf(roots);
  }

  /**
   * @param values the values given (flag, environment or file), empty when none was
   * @param origin where they came from, for messages
   */
  static QueueRootValues resolve(
      Optional<List<String>> values,
      String origin,
      Map<String, String> env,
      List<String> globalGlobs,
      long globalResidual) {
    CriblHome home = CriblHome.fromEnv(env);
    boolean installed = Files.isDirectory(home.home());
    if (values.isEmpty()) {
      if (!installed) {
        return new QueueRootValues(
            List.of(new QueueRootSpec(home.defaultQueues(), globalGlobs, globalResidual)),
            Optional.empty(),
            Optional.empty());
      }
      return auto(home, List.of(), globalGlobs, globalResidual);
    }
    List<QueueRootSpec> explicit = new ArrayList<>();
    boolean auto = false;
    for (String v : values.get()) {
      if (v.strip().toLowerCase(Locale.ROOT).equals(AUTO)) {
        auto = true;
        continue;
      }
      try {
        explicit.add(RootRules.parse(v, globalGlobs, globalResidual, ConfigLoader.MAX_RESIDUAL));
      } catch (IllegalArgumentException e) {
        throw new ConfigException(
            String.format(
                "invalid %s '%s' (from %s): %s; expected %s",
                Setting.QUEUE_ROOT.where(), v, origin, e.getMessage(), ConfigLoader.ROOT_ACCEPTED));
      }
    }
    if (auto) {
      return auto(home, explicit, globalGlobs, globalResidual);
    }
    if (explicit.isEmpty()) {
      throw new ConfigException(
          String.format(
              "invalid %s '' (from %s): expected %s",
              Setting.QUEUE_ROOT.where(), origin, ConfigLoader.ROOT_ACCEPTED));
    }
    return new QueueRootValues(
        explicit, installed ? Optional.of(home) : Optional.empty(), Optional.empty());
  }

  private static QueueRootValues auto(
      CriblHome home, List<QueueRootSpec> explicit, List<String> globs, long residual) {
    AutoResolution r = new AutoRoots(home, explicit, globs, residual).resolve();
    return new QueueRootValues(r.roots(), Optional.of(home), Optional.of(r));
  }
}
