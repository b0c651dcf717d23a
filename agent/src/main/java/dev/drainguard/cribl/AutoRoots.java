package dev.drainguard.cribl;

import dev.drainguard.cribl.CriblBuffer.Exposure;
import dev.drainguard.queue.QueueRootSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * {@code queue-root auto}: the directories Cribl's configuration puts local buffers in become queue
 * roots, beside the roots named explicitly.
 *
 * <ul>
 *   <li>Each persistent queue's path (pqPath, pq.path) is a root: Cribl writes every worker
 *       process's queue below it. Each staging location (stagePath) is a root, whose per-process
 *       open-file inventory {@code CriblOpenFiles.<worker>.json} never counts: it stays after the
 *       last staged file has been uploaded.
 *   <li>{@code $CRIBL_HOME/state/queues} stays a root whenever it exists or a queue uses it: queues
 *       of destinations since removed from the configuration may still hold data there.
 *   <li>Explicit roots win: a discovered directory at or under an explicit root is left to it, and
 *       a discovered root above an explicit one ignores that subtree (the explicit rules judge it).
 *   <li>Without a readable configuration, or with a malformed file, today's default root is kept
 *       (plus whatever the readable files name) and the resolution says why.
 * </ul>
 *
 * @param explicit the roots named beside {@code auto}, with their rules
 * @param globalGlobs the ignore globs every root gets ({@code ignore-glob})
 * @param globalResidual the residual allowance every root gets ({@code residual-bytes})
 */
public record AutoRoots(
    CriblHome home, List<QueueRootSpec> explicit, List<String> globalGlobs, long globalResidual) {

  /**
   * Cribl's inventory of a staging directory's open files, one per worker process, in the directory
   * of each output (or at the top when the output ID is not added): it lists the files still to be
   * uploaded, which are counted themselves, and stays once they are gone.
   */
  public static final String STAGING_INVENTORY = "{CriblOpenFiles.*.json,**/CriblOpenFiles.*.json}";

  public AutoRoots {
    explicit = List.copyOf(explicit);
    globalGlobs = List.copyOf(globalGlobs);
  }

  /** Reads Cribl's configuration now and resolves the roots. */
  public AutoResolution resolve() {
    return resolve(CriblDiscovery.discover(home));
  }

  /** The roots for what {@code inventory} found. */
  public AutoResolution resolve(CriblInventory inventory) {
    // discovered root -> whether a staging location uses it (its rules ignore the inventory)
    Map<Path, Boolean> found = new TreeMap<>();
    for (CriblBuffer b : inventory.buffers()) {
      if (b.exposure() == Exposure.HELD && b.base().isPresent()) {
        found.merge(b.base().get(), b.kind() == BufferKind.STAGING, Boolean::logicalOr);
      }
    }
    Path queues = home.defaultQueues();
    if (!inventory.complete()
        || Files.isDirectory(queues)
        || (found.isEmpty() && explicit.isEmpty())) {
      found.putIfAbsent(queues, false);
    }
    List<QueueRootSpec> roots = new ArrayList<>(explicit);
    List<Path> discovered = new ArrayList<>();
    for (Map.Entry<Path, Boolean> e : found.entrySet()) {
      Path dir = e.getKey();
      if (explicit.stream().anyMatch(x -> dir.startsWith(x.root()))) {
        continue; // an explicit root covers it, with its own rules
      }
      List<String> globs = new ArrayList<>(globalGlobs);
      if (e.getValue()) {
        globs.add(STAGING_INVENTORY);
      }
      for (QueueRootSpec x : explicit) {
        if (x.root().startsWith(dir)) {
          globs.add(escape(dir.relativize(x.root())) + "/**");
        }
      }
      roots.add(new QueueRootSpec(dir, globs, globalResidual));
      discovered.add(dir);
    }
    return new AutoResolution(this, List.copyOf(roots), discovered, inventory, fallback(inventory));
  }

  private Optional<String> fallback(CriblInventory inventory) {
    return inventory
        .problem()
        .map(
            p ->
                p
                    + ": queue-root auto keeps today's default "
                    + home.defaultQueues()
                    + (inventory.buffers().isEmpty()
                        ? ""
                        : " and the buffers the readable files name"));
  }

  /** A relative path as a glob that matches only itself: glob metacharacters escaped. */
  static String escape(Path relative) {
    StringBuilder b = new StringBuilder();
    for (char c : relative.toString().toCharArray()) {
      if ("*?[]{}\\,!".indexOf(c) >= 0) {
        b.append('\\');
      }
      b.append(c);
    }
    return b.toString();
  }
}
