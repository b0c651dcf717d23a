package dev.drainguard.cli;

import dev.drainguard.config.ConfigException;
import dev.drainguard.drain.HookDiscovery;
import dev.drainguard.net.EndpointRefusedException;
import dev.drainguard.net.HttpsProxy;
import java.io.PrintWriter;
import java.util.Optional;
import picocli.CommandLine;

/**
 * {@code drainguard}: the entry point of the agent's command line ({@link DrainguardCommand} is the
 * command tree). No public method here names a picocli type: the launcher resolves them all before
 * main runs, and the lean path must load no picocli.
 */
public final class Main {

  private Main() {}

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /**
   * Runs the command line and returns its exit code; never exits the JVM (the class-data archive's
   * training run calls it in-process). {@code status}, {@code hold} and {@code release} with
   * options read exactly as picocli reads them take the lean path ({@link LeanArgs}): no picocli,
   * no Jackson, no logging backend, no AWS SDK. Everything else goes to picocli.
   */
  public static int execute(String[] args) {
    return execute(args, null, null);
  }

  /** As {@link #execute(String[])}, printing to {@code out} and {@code err} unless null. */
  static int execute(String[] args, PrintWriter out, PrintWriter err) {
    Optional<LeanArgs> lean = LeanArgs.parse(args);
    if (lean.isPresent()) {
      LeanArgs.platformSelectorProvider();
      PrintWriter o = out != null ? out : LeanArgs.writer(System.out, "sun.stdout.encoding");
      PrintWriter e = err != null ? err : LeanArgs.writer(System.err, "sun.stderr.encoding");
      try {
        return lean.get().run(o, e);
      } catch (Exception x) {
        return failure(x, e);
      } finally {
        o.flush();
        e.flush();
      }
    }
    CommandLine cl = DrainguardCommand.commandLine();
    if (out != null) {
      cl.setOut(out);
    }
    if (err != null) {
      cl.setErr(err);
    }
    return cl.execute(args);
  }

  /** What a command's exception means: its message and exit code (both paths share it). */
  static int failure(Exception e, PrintWriter err) {
    if (e instanceof ConfigException
        || e instanceof HookDiscovery.DiscoveryException
        || e instanceof EndpointRefusedException
        || e instanceof HttpsProxy.SettingException) {
      err.println("drainguard: " + e.getMessage());
      return ExitCodes.CONFIG;
    }
    if (e instanceof FatalException) {
      err.println("drainguard: " + e.getMessage());
      return ExitCodes.FAILURE;
    }
    err.println("drainguard: unexpected error: " + e);
    e.printStackTrace(err);
    return ExitCodes.FAILURE;
  }
}
