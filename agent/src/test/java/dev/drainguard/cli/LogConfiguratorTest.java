package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LogConfiguratorTest {

  private static LoggerContext fromXml() throws Exception {
    LoggerContext context = new LoggerContext();
    JoranConfigurator joran = new JoranConfigurator();
    joran.setContext(context);
    joran.doConfigure(LogConfiguratorTest.class.getResource("/logback.xml"));
    return context;
  }

  private static LoggerContext fromCode() {
    LoggerContext context = new LoggerContext();
    LogConfigurator configurator = new LogConfigurator();
    configurator.setContext(context);
    assertThat(configurator.configure(context))
        .isEqualTo(Configurator.ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
    return context;
  }

  private static ConsoleAppender<?> stderr(LoggerContext context) {
    return (ConsoleAppender<?>)
        context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender(LogConfigurator.APPENDER);
  }

  private static LoggingEvent event() {
    LoggingEvent e = new LoggingEvent();
    e.setLevel(Level.WARN);
    e.setMessage("heartbeat sent hook=h asg=g instance=i-1");
    e.setLoggerName("dev.drainguard.drain.DrainController");
    e.setTimeStamp(1_700_000_000_123L);
    return e;
  }

  @Test
  void logbackFindsTheConfiguratorThroughServiceLoader() {
    // Guards against a missing or misspelt META-INF/services entry: logback then falls back to
    // logback.xml silently, and the start-up pays for Joran again.
    assertThat(ServiceLoader.load(Configurator.class).stream().map(p -> p.type().getName()))
        .contains(LogConfigurator.class.getName());
  }

  @Test
  void theAppender_isTheSameAsLogbackXmls() throws Exception {
    LoggerContext xml = fromXml();
    LoggerContext code = fromCode();

    assertThat(stderr(code).getTarget()).isEqualTo(stderr(xml).getTarget()).isEqualTo("System.err");
    var xmlEncoder = (PatternLayoutEncoder) stderr(xml).getEncoder();
    var codeEncoder = (PatternLayoutEncoder) stderr(code).getEncoder();
    assertThat(codeEncoder.getPattern()).isEqualTo(xmlEncoder.getPattern());
    assertThat(codeEncoder.getLayout().doLayout(event()))
        .doesNotContain("PARSER_ERROR")
        .isEqualTo(xmlEncoder.getLayout().doLayout(event()));
    xml.stop();
    code.stop();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        Logger.ROOT_LOGGER_NAME,
        "software.amazon.awssdk",
        "software.amazon.awssdk.http.urlconnection",
        "io.micrometer.core.instrument.composite.CompositeMeterRegistry",
        "io.micrometer.core.instrument",
        "dev.drainguard.drain.DrainController"
      })
  void everyLoggersLevel_isTheSameAsLogbackXmls(String name) throws Exception {
    LoggerContext xml = fromXml();
    LoggerContext code = fromCode();

    assertThat(code.getLogger(name).getEffectiveLevel())
        .isEqualTo(xml.getLogger(name).getEffectiveLevel());
    xml.stop();
    code.stop();
  }
}
