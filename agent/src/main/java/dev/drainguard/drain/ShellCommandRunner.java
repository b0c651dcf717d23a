package dev.drainguard.drain;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs commands with {@code /bin/sh -c}, logs each output line, kills them at their timeout. */
public final class ShellCommandRunner implements CommandRunner {

  private static final Logger log = LoggerFactory.getLogger(ShellCommandRunner.class);

  /** After a kill, how long to wait for the process to be gone before reporting anyway. */
  static final Duration KILL_WAIT = Duration.ofSeconds(5);

  private final Executor executor;
  private final Clock clock;

  public ShellCommandRunner(Executor executor, Clock clock) {
    this.executor = executor;
    this.clock = clock;
  }

  @Override
  public CompletableFuture<CommandResult> start(
      String name, String command, Map<String, String> env, Duration timeout) {
    return CompletableFuture.supplyAsync(() -> run(name, command, env, timeout), executor);
  }

  private CommandResult run(
      String name, String command, Map<String, String> env, Duration timeout) {
    Instant started = clock.instant();
    log.info("command starting name={} command=\"{}\" timeout={}", name, command, timeout);
    ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", command).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process process;
    try {
      process = pb.start();
    } catch (IOException e) {
      log.error("command could not start name={} error={}", name, e.getMessage());
      return new CommandResult(-1, false, Duration.ZERO, e.getMessage());
    }
    Thread pump = new Thread(() -> pump(name, process), "drainguard-command-output");
    pump.setDaemon(true);
    pump.start();
    try {
      boolean exited = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (!exited) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.waitFor(KILL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        Duration took = Duration.between(started, clock.instant());
        log.error("command killed at its timeout name={} timeout={}", name, timeout);
        return new CommandResult(-1, true, took, null);
      }
      pump.join(KILL_WAIT.toMillis());
      Duration took = Duration.between(started, clock.instant());
      int code = process.exitValue();
      if (code == 0) {
        log.info("command finished name={} exit=0 took={}", name, took);
      } else {
        log.error("command failed name={} exit={} took={}", name, code, took);
      }
      return new CommandResult(code, false, took, null);
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      return new CommandResult(
          -1, false, Duration.between(started, clock.instant()), "interrupted");
    }
  }

  private static void pump(String name, Process process) {
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        log.info("command output name={} line=\"{}\"", name, line);
      }
    } catch (IOException e) {
      log.debug("command output closed name={} error={}", name, e.getMessage());
    }
  }
}
