package dev.drainguard.cribl;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;

/** The Cribl homes under src/test/resources/dev/drainguard/cribl (see the README there). */
final class Fixtures {

  private Fixtures() {}

  static Path dir(String name) {
    try {
      return Path.of(Fixtures.class.getResource("/dev/drainguard/cribl/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static CriblHome home(String name) {
    return new CriblHome(dir(name), Map.of());
  }

  static CriblHome home(String name, Map<String, String> env) {
    return new CriblHome(dir(name), env);
  }
}
