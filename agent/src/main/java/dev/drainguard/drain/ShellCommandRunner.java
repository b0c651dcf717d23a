package dev.drainguard.drain;

import dev.drainguard.proc.Isolation;
import dev.drainguard.proc.ShellLauncher;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs operator commands ({@code on-termination-command}, {@code before-complete-command}) with
 * {@code /bin/sh -c} through a {@link ShellLauncher}: PATH, LANG and the {@code DRAINGUARD_*}
 * variables it is given, no ambient capability, a process group of its own that is killed when the
 * command ends or at its timeout. Its output (stdout and stderr) is logged line by line once it is
 * over.
 */
public final class ShellCommandRunner implements CommandRunner {

  private static final Logger log = LoggerFactory.getLogger(ShellCommandRunner.class);

  /** How much of a command's output is logged: a command that prints more is cut, and says so. */
  static final int MAX_LOGGED = 64 * 1024;

  private final Executor executor;
  private final Clock clock;
  private final ShellLauncher launcher;

  public ShellCommandRunner(Executor executor, Clock clock) {
    this(executor, clock, ShellLauncher.forAgent(Isolation.Capabilities.DROP));
  }

  public ShellCommandRunner(Executor executor, Clock clock, ShellLauncher launcher) {
    this.executor = executor;
    this.clock = clock;
    this.launcher = launcher;
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
    ShellLauncher.Result r;
    try {
      r = launcher.run(command, env, timeout, true, MAX_LOGGED);
    } catch (IOException e) {
      log.error("command could not start name={} error={}", name, e.getMessage());
      return new CommandResult(-1, false, Duration.ZERO, e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new CommandResult(
          -1, false, Duration.between(started, clock.instant()), "interrupted");
    }
    Duration took = Duration.between(started, clock.instant());
    logOutput(name, r.stdout());
    if (r.timedOut()) {
      log.error("command killed at its timeout name={} timeout={}", name, timeout);
      return new CommandResult(-1, true, took, null);
    }
    if (r.exitCode() == 0) {
      log.info("command finished name={} exit=0 took={}", name, took);
    } else {
      log.error("command failed name={} exit={} took={}", name, r.exitCode(), took);
    }
    return new CommandResult(r.exitCode(), false, took, null);
  }

  private static void logOutput(String name, ShellLauncher.Output out) {
    out.text().lines().forEach(line -> log.info("command output name={} line=\"{}\"", name, line));
    if (out.truncated()) {
      log.warn("command output cut name={} bytes={} logged={}", name, out.bytes(), MAX_LOGGED);
    }
  }
}
