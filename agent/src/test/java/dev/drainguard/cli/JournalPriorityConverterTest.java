package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JournalPriorityConverterTest {

  private static LoggingEvent event(Level level) {
    LoggingEvent e = new LoggingEvent();
    e.setLevel(level);
    e.setMessage("heartbeat sent hook=h asg=g instance=i-1");
    e.setLoggerName("dev.drainguard.drain.DrainController");
    e.setTimeStamp(0);
    return e;
  }

  @ParameterizedTest
  @CsvSource({"ERROR, <3>", "WARN, <4>", "INFO, <6>", "DEBUG, <7>", "TRACE, <7>"})
  void underJournald_prefixesTheSyslogPriorityOfTheLevel(String level, String prefix) {
    var converter = new JournalPriorityConverter(Map.of("JOURNAL_STREAM", "8:12345")::get);

    assertThat(converter.convert(event(Level.toLevel(level)))).isEqualTo(prefix);
  }

  @ParameterizedTest
  @CsvSource({"ERROR", "WARN", "INFO", "DEBUG", "TRACE"})
  void withoutJournalStream_prefixesNothing(String level) {
    var converter = new JournalPriorityConverter(Map.<String, String>of()::get);

    assertThat(converter.convert(event(Level.toLevel(level)))).isEmpty();
  }

  @Test
  void aBlankJournalStream_isNotJournald() {
    var converter = new JournalPriorityConverter(Map.of("JOURNAL_STREAM", "")::get);

    assertThat(converter.convert(event(Level.ERROR))).isEmpty();
  }

  @Test
  void theShippedLogbackXml_resolvesPrioAtTheStartOfTheLine() throws Exception {
    // Guards against a wrong conversionRule attribute: logback then prints %PARSER_ERROR[prio].
    LoggerContext context = new LoggerContext();
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    configurator.doConfigure(getClass().getResource("/logback.xml"));
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    var appender = (OutputStreamAppender<?>) root.getAppender("STDERR");
    var encoder = (PatternLayoutEncoder) appender.getEncoder();

    String line = encoder.getLayout().doLayout(event(Level.WARN));

    String prefix = System.getenv("JOURNAL_STREAM") == null ? "" : "<4>";
    assertThat(line)
        .doesNotContain("PARSER_ERROR")
        .matches(
            java.util.regex.Pattern.quote(prefix)
                + "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\S+ WARN  DrainController -"
                + " heartbeat sent hook=h asg=g instance=i-1\\R");
    context.stop();
  }
}
