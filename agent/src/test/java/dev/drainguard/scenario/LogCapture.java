package dev.drainguard.scenario;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.LoggerFactory;

/**
 * Collects the agents' WARN and ERROR lines while scenarios run, by the instance id each line names
 * ({@code instance=i-…}), so that many agents can run side by side and each scenario still gets its
 * own log. Lines that name no instance but say that a loop or the watcher failed are kept apart: a
 * run with any of them fails.
 */
final class LogCapture extends AppenderBase<ILoggingEvent> {

  private static final Pattern INSTANCE = Pattern.compile("instance=(i-[0-9a-f]+)");

  /** Failures that name no instance: any of them is a broken agent. */
  private static final List<String> BROKEN =
      List.of(
          "drain tick failed",
          "drain evaluation failed",
          "queue watcher stopped unexpectedly",
          "queue watcher thread ended while not closed");

  private static final Map<String, List<String>> byInstance = new ConcurrentHashMap<>();
  private static final List<String> broken = new ArrayList<>();
  private static LogCapture installed;
  private static Level levelBefore;
  private static boolean additiveBefore;

  /**
   * From now on, the agents' (package {@code dev.drainguard}) WARN and ERROR lines are captured
   * instead of printed; their INFO lines are not formatted at all.
   */
  static synchronized void install() {
    if (installed != null) {
      return;
    }
    Logger agentLogs = (Logger) LoggerFactory.getLogger("dev.drainguard");
    levelBefore = agentLogs.getLevel();
    additiveBefore = agentLogs.isAdditive();
    installed = new LogCapture();
    installed.setContext(agentLogs.getLoggerContext());
    installed.start();
    agentLogs.addAppender(installed);
    agentLogs.setLevel(Level.WARN);
    agentLogs.setAdditive(false);
  }

  /** Restores the logging as it was. */
  static synchronized void uninstall() {
    if (installed == null) {
      return;
    }
    Logger agentLogs = (Logger) LoggerFactory.getLogger("dev.drainguard");
    agentLogs.detachAppender(installed);
    agentLogs.setLevel(levelBefore);
    agentLogs.setAdditive(additiveBefore);
    installed.stop();
    installed = null;
  }

  /** The lines captured for {@code instanceId}, forgetting them. */
  static List<String> take(String instanceId) {
    List<String> lines = byInstance.remove(instanceId);
    return lines == null ? List.of() : List.copyOf(lines);
  }

  /** Lines that say an agent's loop or watcher failed, whatever instance. */
  static synchronized List<String> broken() {
    return List.copyOf(broken);
  }

  @Override
  protected void append(ILoggingEvent e) {
    String msg = e.getFormattedMessage();
    String line = e.getLevel() + " " + e.getLoggerName().replaceAll(".*\\.", "") + " - " + msg;
    Matcher m = INSTANCE.matcher(msg);
    if (m.find()) {
      byInstance
          .computeIfAbsent(m.group(1), k -> new java.util.concurrent.CopyOnWriteArrayList<>())
          .add(line);
    }
    if (BROKEN.stream().anyMatch(msg::startsWith)) {
      synchronized (LogCapture.class) {
        broken.add(
            line + (e.getThrowableProxy() == null ? "" : " " + e.getThrowableProxy().getMessage()));
      }
    }
  }
}
