package dev.drainguard.cribl;

import dev.drainguard.cribl.CriblBuffer.Exposure;
import dev.drainguard.queue.QueueRootSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code queue-root auto} resolved to at one reading of Cribl's configuration.
 *
 * @param request what was asked: Cribl's home, the explicit roots and the global rules
 * @param roots every queue root to watch: the explicit ones first, then the discovered ones
 * @param discovered the roots {@code auto} added
 * @param fallback why the configuration could not be read whole, when it could not
 */
public record AutoResolution(
    AutoRoots request,
    List<QueueRootSpec> roots,
    List<Path> discovered,
    CriblInventory inventory,
    Optional<String> fallback) {

  private static final Logger log = LoggerFactory.getLogger(AutoResolution.class);

  public AutoResolution {
    roots = List.copyOf(roots);
    discovered = List.copyOf(discovered);
  }

  /** The root directories, for coverage and logs. */
  public List<Path> rootPaths() {
    return roots.stream().map(QueueRootSpec::root).toList();
  }

  /**
   * Logs the list once: one line per buffer with the root that covers it, the fallback at WARN
   * (ERROR for a malformed file), and a buffer no root covers at WARN.
   *
   * @param when {@code at start} or {@code after a configuration change}
   */
  public void log(String when) {
    List<Path> rootPaths = rootPaths();
    log.info(
        "cribl configuration {}: {} local buffers in {}; queue roots {}",
        when,
        inventory.buffers().size(),
        inventory.filesRead(),
        rootPaths);
    if (inventory.error().isPresent()) {
      log.error("cribl configuration malformed: {}", fallback.orElseThrow());
    } else {
      fallback.ifPresent(f -> log.warn("cribl configuration missing: {}", f));
    }
    for (CriblBuffer b : inventory.buffers()) {
      Optional<Path> root = b.coveredBy(rootPaths);
      if (b.exposure() == Exposure.HELD && root.isEmpty()) {
        log.warn("cribl buffer not watched: {}; set by {}", b.describe(), b.setting());
      } else if (b.exposure() == Exposure.UNJUDGED) {
        log.warn("cribl buffer cannot be judged: {}; set by {}", b.describe(), b.setting());
      } else {
        log.info(
            "cribl buffer {} {}",
            b.describe(),
            root.map(r -> "under root " + r).orElse("not watched (" + b.exposure() + ")"));
      }
    }
  }
}
