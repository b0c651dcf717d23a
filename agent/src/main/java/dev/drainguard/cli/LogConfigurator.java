package dev.drainguard.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.pattern.DynamicConverter;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Logback's configuration in code, found by logback through {@code META-INF/services}: the same as
 * the shipped {@code logback.xml} (LogConfiguratorTest compares the two), without Joran's XML
 * parsing, which loaded about 500 classes and took a few hundred milliseconds at every start.
 *
 * <p>A configuration file named by {@code -Dlogback.configurationFile}, or a {@code
 * logback-test.xml} on the class path, still wins: logback then reads it as before.
 */
public final class LogConfigurator extends ContextAwareBase implements Configurator {

  static final String APPENDER = "STDERR";
  static final String PATTERN =
      "%prio%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %logger{0} - %msg%n";

  /** Logger names and their levels, as in logback.xml (see the comments there). */
  static final Map<String, Level> LEVELS =
      Map.of(
          "software.amazon.awssdk",
          Level.WARN,
          "io.micrometer.core.instrument.composite.CompositeMeterRegistry",
          Level.ERROR);

  /** Logback's constructor (ServiceLoader). */
  public LogConfigurator() {}

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty("logback.configurationFile") != null
        || LogConfigurator.class.getClassLoader().getResource("logback-test.xml") != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    Map<String, Supplier<DynamicConverter<?>>> rules = new HashMap<>();
    rules.put("prio", JournalPriorityConverter::new);
    context.putObject(CoreConstants.PATTERN_RULE_REGISTRY_FOR_SUPPLIERS, rules);

    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(PATTERN);
    encoder.start();
    ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
    stderr.setContext(context);
    stderr.setName(APPENDER);
    stderr.setTarget("System.err"); // stdout is reserved for command output
    stderr.setEncoder(encoder);
    stderr.start();

    LEVELS.forEach((name, level) -> context.getLogger(name).setLevel(level));
    ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.INFO);
    root.addAppender(stderr);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }
}
