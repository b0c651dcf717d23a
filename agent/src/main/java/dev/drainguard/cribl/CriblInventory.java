package dev.drainguard.cribl;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What Cribl's configuration on this worker says about its local buffers.
 *
 * @param filesRead the configuration files that exist and were read, in the order they apply
 * @param buffers every local buffer, destinations first, in file order
 * @param error why the configuration could not be read (a malformed file, with its line); the
 *     buffers are then those of the files read before it, and not the whole list
 */
public record CriblInventory(
    CriblHome home, List<Path> filesRead, List<CriblBuffer> buffers, Optional<String> error) {

  public CriblInventory {
    filesRead = List.copyOf(filesRead);
    buffers = List.copyOf(buffers);
  }

  /** True when the whole configuration was read: there was some, and none of it was malformed. */
  public boolean complete() {
    return error.isEmpty() && !filesRead.isEmpty();
  }

  /** Why the list cannot be trusted as the whole picture, for a log or check line. */
  public Optional<String> problem() {
    if (error.isPresent()) {
      return error;
    }
    if (filesRead.isEmpty()) {
      return Optional.of(
          "no Cribl configuration at "
              + home.home().resolve("local/cribl")
              + " or "
              + home.home().resolve("default/cribl")
              + " (outputs.yml, inputs.yml)");
    }
    return Optional.empty();
  }
}
