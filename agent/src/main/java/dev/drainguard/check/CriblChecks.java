package dev.drainguard.check;

import dev.drainguard.cribl.AutoResolution;
import dev.drainguard.cribl.CriblBuffer;
import dev.drainguard.cribl.CriblDiscovery;
import dev.drainguard.cribl.CriblHome;
import dev.drainguard.cribl.CriblInventory;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The Cribl side ({@code cribl}), when Cribl is installed where drainguard looks ({@code
 * CRIBL_HOME}, else /opt/cribl): which configuration was read, then one line per local buffer it
 * names (owner, kind, path) with the queue root that covers it. A buffer whose data is lost at
 * termination and that no root covers FAILs, naming the path and the settings that would cover it;
 * a malformed configuration FAILs with its file and line.
 */
final class CriblChecks {

  private final Optional<CriblHome> home;
  private final Optional<AutoResolution> auto;
  private final List<Path> roots;

  CriblChecks(Optional<CriblHome> home, Optional<AutoResolution> auto, List<Path> roots) {
    this.home = auto.map(a -> a.request().home()).or(() -> home);
    this.auto = auto;
    this.roots = roots;
  }

  void run(List<Check> out) {
    if (home.isEmpty()) {
      return; // no Cribl where drainguard looks: another writer's queues, nothing to say
    }
    CriblInventory inventory =
        auto.map(AutoResolution::inventory).orElseGet(() -> CriblDiscovery.discover(home.get()));
    out.add(header(inventory));
    for (CriblBuffer b : inventory.buffers()) {
      out.add(line(b));
    }
  }

  private Check header(CriblInventory inventory) {
    String name = Checks.CRIBL;
    String mode = auto.isPresent() ? "queue-root auto" : "queue roots named explicitly";
    if (inventory.error().isPresent()) {
      return Check.fail(
          name,
          auto.flatMap(AutoResolution::fallback).orElse(inventory.error().get()),
          "correct the file (Cribl cannot load it either), or name every queue directory with"
              + " --queue-root");
    }
    if (inventory.filesRead().isEmpty()) {
      return Check.warn(
          name,
          auto.flatMap(AutoResolution::fallback)
              .orElse(inventory.problem().orElseThrow() + ": Cribl's local buffers are unknown"),
          "set CRIBL_HOME in drainguard's environment to the directory Cribl runs from"
              + " ($CRIBL_VOLUME_DIR if Cribl uses one), or name the roots with --queue-root");
    }
    return Check.pass(
        name,
        "Cribl configuration read from "
            + inventory.filesRead()
            + ": "
            + QueueChecks.count(inventory.buffers().size(), "local buffer")
            + ", judged against the "
            + mode);
  }

  private Check line(CriblBuffer b) {
    String name = Checks.CRIBL;
    Optional<Path> root = b.coveredBy(roots);
    return switch (b.exposure()) {
      case HELD -> {
        if (root.isPresent()) {
          yield Check.pass(name, b.describe() + ": under queue root " + root.get());
        }
        if (b.base().isEmpty()) {
          yield Check.fail(
              name,
              b.describe() + ": its directory is unknown, so no queue root covers it",
              "give the path without the unknown variable, or set the variable in drainguard's"
                  + " environment (systemd unit Environment=): "
                  + b.setting());
        }
        yield Check.fail(
            name,
            b.describe() + ": outside every queue root, so its data is lost at termination",
            "add queue-root auto (or --queue-root "
                + b.base().get()
                + ", env DRAINGUARD_QUEUE_ROOT), or move the queue under a root: "
                + b.setting());
      }
      case UNJUDGED ->
          Check.warn(
              name,
              b.describe() + ": its data is lost at termination and drainguard cannot watch it",
              "set " + b.setting() + " to a local directory of its own: it is then watched");
      case LISTED ->
          Check.pass(
              name,
              b.describe() + root.map(r -> ": under queue root " + r).orElse(": not waited for"));
    };
  }
}
