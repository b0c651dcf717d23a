package dev.drainguard.cli;

import java.io.BufferedWriter;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.lang.reflect.Modifier;
import java.nio.channels.spi.SelectorProvider;
import java.nio.charset.Charset;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * The lean path of {@code status}, {@code hold} and {@code release}, and of a bare {@code run}: a
 * command line these commands take, read without picocli, so that the answer comes at once
 * (picocli, with the agent's whole command tree, costs hundreds of milliseconds of class loading)
 * and the agent that runs for the life of the instance does not keep picocli's classes (some 2 MiB
 * of memory, issue 15).
 *
 * <p>It reads only what it understands exactly as picocli does: each option of the command at most
 * once, as {@code --name VALUE} or {@code --name=VALUE}; a boolean alone, or followed by {@code
 * true}/{@code false} (any case), or with {@code =true}/{@code =false}. Anything else (help,
 * version, an unknown or repeated option, a value that starts with {@code -} or {@code @}, an empty
 * value, {@code --}, a positional argument) is left to picocli, whose messages and exit codes stay
 * the only ones for usage errors.
 *
 * @param command status, hold or release
 * @param controlSocket --control-socket, or null
 * @param config --config, or null
 * @param reason --reason (hold, release), or null
 */
record LeanArgs(
    String command,
    String controlSocket,
    Path config,
    boolean json,
    boolean watch,
    boolean force,
    String reason) {

  private static final String SOCKET = "--control-socket";
  private static final String CONFIG = "--config";
  private static final String JSON = "--json";
  private static final String WATCH = "--watch";
  private static final String FORCE = "--force";
  private static final String REASON = "--reason";

  /** The options each command takes, as its picocli command declares them. */
  private static final Map<String, List<String>> OPTIONS =
      Map.of(
          // run: as systemd starts it, its settings in the environment or the config file; a
          // setting on the command line is picocli's (one option per setting, SettingOptions)
          "run", List.of(CONFIG),
          "status", List.of(SOCKET, CONFIG, JSON, WATCH),
          "hold", List.of(SOCKET, CONFIG, REASON),
          "release", List.of(SOCKET, CONFIG, FORCE, REASON));

  private static final Set<String> BOOLEANS = Set.of(JSON, WATCH, FORCE);

  /** The command line, when the lean path reads it exactly as picocli would; else empty. */
  static Optional<LeanArgs> parse(String[] args) {
    if (args.length == 0 || !OPTIONS.containsKey(args[0])) {
      return Optional.empty();
    }
    List<String> known = OPTIONS.get(args[0]);
    Set<String> seen = new HashSet<>();
    String socket = null;
    String config = null;
    String reason = null;
    boolean json = false;
    boolean watch = false;
    boolean force = false;
    for (int i = 1; i < args.length; i++) {
      String arg = args[i];
      int eq = arg.startsWith("--") ? arg.indexOf('=') : -1;
      String name = eq < 0 ? arg : arg.substring(0, eq);
      if (!known.contains(name) || !seen.add(name) || arg.startsWith("@")) {
        return Optional.empty();
      }
      String value;
      if (BOOLEANS.contains(name)) {
        String next = i + 1 < args.length ? args[i + 1] : null;
        if (eq >= 0) {
          value = arg.substring(eq + 1);
          if (!isBoolean(value)) {
            return Optional.empty(); // picocli: "'x' is not a boolean"
          }
        } else if (isBoolean(next)) {
          value = next; // arity 0..1: a following true or false is the option's value
          i++;
        } else {
          value = "true";
        }
      } else {
        if (eq >= 0) {
          value = arg.substring(eq + 1);
        } else if (i + 1 < args.length) {
          value = args[++i];
        } else {
          return Optional.empty(); // picocli: "Missing required parameter"
        }
        if (value.isEmpty() || value.startsWith("-") || value.startsWith("@")) {
          return Optional.empty();
        }
      }
      switch (name) {
        case SOCKET -> socket = value;
        case CONFIG -> config = value;
        case REASON -> reason = value;
        case JSON -> json = Boolean.parseBoolean(value);
        case WATCH -> watch = Boolean.parseBoolean(value);
        default -> force = Boolean.parseBoolean(value);
      }
    }
    return Optional.of(
        new LeanArgs(
            args[0], socket, config == null ? null : Path.of(config), json, watch, force, reason));
  }

  private static boolean isBoolean(String v) {
    return "true".equalsIgnoreCase(v) || "false".equalsIgnoreCase(v);
  }

  /** Runs the command as its picocli command would; exceptions are left to the caller. */
  int run(PrintWriter out, PrintWriter err) throws InterruptedException {
    if (command.equals("run")) {
      return AgentRun.run(Map.of(), Optional.ofNullable(config), new CountDownLatch(1));
    }
    ControlOptions control = new ControlOptions();
    control.controlSocket = controlSocket;
    control.config = config;
    return switch (command) {
      case "status" -> ControlCalls.status(control, json, watch, out, err);
      case "hold" -> ControlCalls.hold(control, reason, out, err);
      default -> ControlCalls.release(control, reason, force, out, err);
    };
  }

  /**
   * Names the platform's own SelectorProvider (what a Unix socket is opened with), unless one is
   * named already: else the JDK looks for one as a service in every jar of the class path, about 30
   * ms with the agent's jars, to find none and use the same platform provider. Where that provider
   * is not there (not Linux), nothing changes.
   */
  static void platformSelectorProvider() {
    if (System.getProperty(SELECTOR_PROVIDER) != null) {
      return;
    }
    try {
      Class<?> c = Class.forName(EPOLL, false, null);
      if (SelectorProvider.class.isAssignableFrom(c)
          && Modifier.isPublic(c.getConstructor().getModifiers())) {
        System.setProperty(SELECTOR_PROVIDER, EPOLL);
      }
    } catch (ReflectiveOperationException | LinkageError e) {
      // another platform: the JDK looks as it always does
    }
  }

  private static final String SELECTOR_PROVIDER = "java.nio.channels.spi.SelectorProvider";
  private static final String EPOLL = "sun.nio.ch.EPollSelectorProvider";

  /**
   * A writer as picocli makes for System.out or System.err: the charset named by {@code
   * sun.stdout.encoding} (or {@code sun.stderr.encoding}) if there is one, else the default;
   * buffered, flushed at each line.
   */
  static PrintWriter writer(OutputStream stream, String encodingProperty) {
    return new PrintWriter(
        new BufferedWriter(
            new OutputStreamWriter(stream, charset(System.getProperty(encodingProperty)))),
        true);
  }

  private static Charset charset(String name) {
    if (name == null) {
      return Charset.defaultCharset();
    }
    try {
      return Charset.forName("cp65001".equalsIgnoreCase(name) ? "UTF-8" : name);
    } catch (RuntimeException e) {
      return Charset.defaultCharset();
    }
  }
}
