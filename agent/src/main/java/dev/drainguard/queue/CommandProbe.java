package dev.drainguard.queue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * Asks an operator's command what is queued ({@code --queue-probe-command}), for writers whose
 * on-disk format drainguard does not know. The command runs with {@code /bin/sh -c}; its standard
 * output is one integer (bytes queued) or {@code {"queues":[{"name":"…","bytes":N}]}}. A non-zero
 * exit, a timeout or output of neither form is unknown, reported with the command's stderr.
 */
public final class CommandProbe implements Probe {

  public static final String NAME = "command";

  /** How much of the command's output is kept: a probe prints a number, not a log. */
  static final int MAX_OUTPUT = 64 * 1024;

  /** How much of its stderr an unknown reading quotes. */
  static final int MAX_QUOTED = 300;

  /** After a kill at the timeout, how long to wait for the process to be gone. */
  static final Duration KILL_WAIT = Duration.ofSeconds(2);

  /**
   * How long an unknown reading waits for the rest of stderr once the command has ended: a child
   * that outlived it may hold the pipe open.
   */
  static final Duration STDERR_WAIT = Duration.ofMillis(500);

  private static final Pattern INTEGER = Pattern.compile("\\d{1,18}");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String command;
  private final Duration timeout;
  private final Clock clock;

  public CommandProbe(String command, Duration timeout, Clock clock) {
    if (command.isBlank()) {
      throw new IllegalArgumentException("queue probe command is blank");
    }
    this.command = command;
    this.timeout = timeout;
    this.clock = clock;
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
    Process process;
    try {
      process = new ProcessBuilder("/bin/sh", "-c", command).start();
    } catch (IOException e) {
      return unknown("could not start: " + e.getMessage());
    }
    try {
      process.getOutputStream().close();
      CompletableFuture<String> out = drain(process.getInputStream());
      CompletableFuture<String> err = drain(process.getErrorStream());
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.waitFor(KILL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        return unknown("killed at its timeout " + timeout + stderr(err));
      }
      int code = process.exitValue();
      if (code != 0) {
        return unknown("exited " + code + stderr(err));
      }
      String stdout = out.get(KILL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
      try {
        return ProbeReading.known(NAME, clock.instant(), parse(stdout));
      } catch (IllegalArgumentException e) {
        return unknown(e.getMessage() + stderr(err));
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      return unknown("interrupted");
    } catch (ExecutionException | TimeoutException | IOException e) {
      process.destroyForcibly();
      return unknown("its output could not be read: " + e);
    }
  }

  /**
   * One integer, or the JSON form. Package-private for tests.
   *
   * @throws IllegalArgumentException naming what is wrong with the output
   */
  static List<QueueReading> parse(String stdout) {
    String v = stdout.strip();
    if (INTEGER.matcher(v).matches()) {
      return List.of(new QueueReading("total", Long.parseLong(v)));
    }
    JsonNode root;
    try {
      root = JSON.readTree(v);
    } catch (IOException e) {
      root = null;
    }
    if (root == null || !root.path("queues").isArray()) {
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
    return queues;
  }

  private ProbeReading unknown(String why) {
    return ProbeReading.unknown(NAME, clock.instant(), "probe command " + why);
  }

  private static String stderr(CompletableFuture<String> err) {
    String text;
    try {
      text = err.get(STDERR_WAIT.toMillis(), TimeUnit.MILLISECONDS).strip();
    } catch (ExecutionException | TimeoutException e) {
      text = "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      text = "";
    }
    return text.isEmpty() ? "" : ", stderr: " + abbreviate(text.replace('\n', ' '));
  }

  private static String abbreviate(String s) {
    return s.length() <= MAX_QUOTED ? s : s.substring(0, MAX_QUOTED) + "…";
  }

  /** Reads a stream to its end on its own thread, keeping at most {@link #MAX_OUTPUT} bytes. */
  private static CompletableFuture<String> drain(InputStream in) {
    CompletableFuture<String> f = new CompletableFuture<>();
    Thread t =
        new Thread(
            () -> {
              ByteArrayOutputStream kept = new ByteArrayOutputStream();
              byte[] buf = new byte[8192];
              try (in) {
                int n;
                while ((n = in.read(buf)) > 0) {
                  int room = MAX_OUTPUT - kept.size();
                  kept.write(buf, 0, Math.max(0, Math.min(room, n)));
                }
                f.complete(kept.toString(StandardCharsets.UTF_8));
              } catch (IOException e) {
                f.completeExceptionally(new UncheckedIOException(e));
              }
            },
            "drainguard-probe-output");
    t.setDaemon(true);
    t.start();
    return f;
  }
}
