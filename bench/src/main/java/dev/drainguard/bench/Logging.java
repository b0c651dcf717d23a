package dev.drainguard.bench;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

/** The simulators run in the bench's JVM: their INFO lines would bury the progress lines. */
final class Logging {

  private Logging() {}

  static void quiet() {
    ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).setLevel(Level.WARN);
  }
}
