package dev.drainguard.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import java.util.function.UnaryOperator;

/**
 * {@code %prio} in the log pattern: the syslog priority prefix ({@code <3>} error, {@code <4>}
 * warning, {@code <6>} info, {@code <7>} debug and trace) that journald reads from the start of a
 * line on stderr to record its level, when the agent runs under systemd; nothing otherwise, so a
 * terminal or a file never shows it.
 *
 * <p>Running under systemd with stderr to the journal is told by the environment variable {@value
 * #JOURNAL_STREAM}, read once, when the pattern is configured.
 */
public final class JournalPriorityConverter extends ClassicConverter {

  /** Set by systemd (to the device and inode of the stream) when stderr goes to the journal. */
  static final String JOURNAL_STREAM = "JOURNAL_STREAM";

  private final boolean underJournal;

  /** Reads the process environment; logback's constructor. */
  public JournalPriorityConverter() {
    this(System::getenv);
  }

  /** With the environment looked up by {@code env} (tests). */
  JournalPriorityConverter(UnaryOperator<String> env) {
    String stream = env.apply(JOURNAL_STREAM);
    this.underJournal = stream != null && !stream.isBlank();
  }

  @Override
  public String convert(ILoggingEvent event) {
    return underJournal ? prefix(event.getLevel()) : "";
  }

  static String prefix(Level level) {
    int l = level.toInt();
    if (l >= Level.ERROR_INT) {
      return "<3>";
    }
    if (l >= Level.WARN_INT) {
      return "<4>";
    }
    if (l >= Level.INFO_INT) {
      return "<6>";
    }
    return "<7>";
  }
}
