package dev.drainguard.queue;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drainguard.proc.Isolation;
import dev.drainguard.proc.ShellLauncher;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Asks an operator's command what is queued ({@code --queue-probe-command}), for writers whose
 * on-disk format drainguard does not know. The command runs with {@code /bin/sh -c} through a
 * {@link ShellLauncher}: PATH and LANG only, a process group of its own that is killed when it ends
 * or times out. Its standard output must be exactly one answer, one integer (bytes queued) or
 * {@code {"queues":[{"name":"…","bytes":N}]}}, with nothing but white space around it. A non-zero
 * exit, a timeout, anything else printed, or an answer that names no queue is unknown, reported
 * with the command's stderr.
 */
public final class CommandProbe implements Probe {

  public static final String NAME = "command";

  /** How much of the command's output is kept: a probe prints a number, not a log. */
  static final int MAX_OUTPUT = 64 * 1024;

  /** How much of its stderr an unknown reading quotes. */
  static final int MAX_QUOTED = 300;

  private static final Pattern INTEGER = Pattern.compile("\\d{1,18}");
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private final String command;
  private final Duration timeout;
  private final Clock clock;
  private final ShellLauncher launcher;

  /**
   * A probe whose command keeps the agent's ambient capabilities ({@code CAP_DAC_READ_SEARCH} in
   * the packaged unit): it reads queue files, as the agent's own watcher does.
   */
  public CommandProbe(String command, Duration timeout, Clock clock) {
    this(command, timeout, clock, ShellLauncher.forAgent(Isolation.Capabilities.KEEP));
  }

  public CommandProbe(String command, Duration timeout, Clock clock, ShellLauncher launcher) {
    if (command.isBlank()) {
      throw new IllegalArgumentException("queue probe command is blank");
    }
    this.command = command;
    this.timeout = timeout;
    this.clock = clock;
    this.launcher = launcher;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String describe() {
    return "command \"" + command + "\" (timeout " + timeout + ")";
  }

  @Override
  public ProbeReading read() {
    Instant started = clock.instant();
    ShellLauncher.Result r;
    try {
      r = launcher.run(command, Map.of(), timeout, false, MAX_OUTPUT);
    } catch (IOException e) {
      return unknown(started, "could not start: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return unknown(started, "interrupted");
    }
    String stderr = quote(r.stderr());
    if (r.timedOut()) {
      return unknown(started, "killed at its timeout " + timeout + stderr);
    }
    if (r.exitCode() != 0) {
      return unknown(started, "exited " + r.exitCode() + stderr);
    }
    if (r.stdout().truncated()) {
      return unknown(
          started, "printed " + r.stdout().bytes() + " bytes, more than " + MAX_OUTPUT + stderr);
    }
    try {
      return ProbeReading.known(NAME, started, parse(r.stdout().text()));
    } catch (IllegalArgumentException e) {
      return unknown(started, e.getMessage() + stderr);
    }
  }

  /**
   * One integer, or the JSON form, and nothing else but white space. Package-private for tests.
   *
   * @throws IllegalArgumentException naming what is wrong with the output
   */
  static List<QueueReading> parse(String stdout) {
    String v = stdout.strip();
    if (INTEGER.matcher(v).matches()) {
      return List.of(new QueueReading("total", Long.parseLong(v)));
    }
    JsonNode root = json(v);
    if (root == null || !root.isObject() || !root.path("queues").isArray()) {
      throw new IllegalArgumentException(
          "printed neither an integer nor {\"queues\":[{\"name\":…,\"bytes\":N}]}: \""
              + abbreviate(v)
              + "\"");
    }
    List<QueueReading> queues = new ArrayList<>();
    for (JsonNode q : root.get("queues")) {
      JsonNode name = q.path("name");
      JsonNode bytes = q.path("bytes");
      if (!name.isTextual() || name.asText().isBlank()) {
        throw new IllegalArgumentException("a queue in its JSON has no \"name\": " + q);
      }
      if (!bytes.canConvertToLong() || !bytes.isIntegralNumber() || bytes.asLong() < 0) {
        throw new IllegalArgumentException(
            "queue " + name.asText() + " has no non-negative integer \"bytes\": " + q);
      }
      queues.add(new QueueReading(name.asText(), bytes.asLong()));
    }
    if (queues.isEmpty()) {
      // "nothing reported" is not evidence of "nothing queued": a probe that found no queue to
      // read (a wrong prefix, a directory not mounted yet) must not let the instance go
      throw new IllegalArgumentException(
          "named no queue ({\"queues\":[]}): a probe that finds nothing to count must say so with"
              + " a non-zero exit, and print 0 for a queue it read as empty");
    }
    return queues;
  }

  /**
   * Exactly one JSON value, or null when the text does not start with one.
   *
   * @throws IllegalArgumentException when anything but white space follows the value: a second
   *     answer, or a line the command meant as an error
   */
  private static JsonNode json(String text) {
    try (JsonParser p = JSON.createParser(text)) {
      JsonNode root;
      try {
        root = JSON.readTree(p);
      } catch (IOException e) {
        return null;
      }
      boolean more;
      try {
        more = root != null && p.nextToken() != null;
      } catch (IOException e) {
        more = true;
      }
      if (more) {
        throw new IllegalArgumentException(
            "printed more than one answer: after its JSON came more: \"" + abbreviate(text) + "\"");
      }
      return root;
    } catch (IOException e) {
      return null;
    }
  }

  private ProbeReading unknown(Instant started, String why) {
    return ProbeReading.unknown(NAME, started, "probe command " + why);
  }

  private static String quote(ShellLauncher.Output err) {
    String text = err.text().strip();
    return text.isEmpty() ? "" : ", stderr: " + abbreviate(text.replace('\n', ' '));
  }

  private static String abbreviate(String s) {
    return s.length() <= MAX_QUOTED ? s : s.substring(0, MAX_QUOTED) + "…";
  }
}
