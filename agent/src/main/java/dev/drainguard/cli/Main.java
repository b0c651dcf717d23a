package dev.drainguard.cli;

import dev.drainguard.config.ConfigException;
import dev.drainguard.drain.HookDiscovery;
import dev.drainguard.net.EndpointRefusedException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code drainguard}: the agent's command line. */
@Command(
    name = "drainguard",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    description = {
      "Holds an EC2 Auto Scaling termination while local persistent queues still",
      "hold data, and completes the lifecycle action the moment they have drained."
    },
    subcommands = {
      RunCommand.class,
      CheckCommand.class,
      StatusCommand.class,
      HoldCommand.class,
      ReleaseCommand.class,
      DemoCommand.class,
      CommandLine.HelpCommand.class
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:success",
      "1:runtime failure (e.g. IMDS unreachable)",
      "2:usage error",
      "78:bad configuration"
    })
public final class Main implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs one command line and returns its exit code, without exiting the JVM. */
  public static int execute(String[] args) {
    return commandLine().execute(args);
  }

  /** The whole command line, ready to execute; tests use this too. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main());
    SettingOptions.addTo(cl.getSubcommands().get("run").getCommandSpec());
    SettingOptions.addTo(cl.getSubcommands().get("check").getCommandSpec());
    cl.setExecutionExceptionHandler(Main::handle);
    return cl;
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
  }

  private static int handle(Exception e, CommandLine cl, CommandLine.ParseResult parseResult) {
    if (e instanceof ConfigException
        || e instanceof HookDiscovery.DiscoveryException
        || e instanceof EndpointRefusedException) {
      cl.getErr().println("drainguard: " + e.getMessage());
      return ExitCodes.CONFIG;
    }
    if (e instanceof FatalException) {
      cl.getErr().println("drainguard: " + e.getMessage());
      return ExitCodes.FAILURE;
    }
    cl.getErr().println("drainguard: unexpected error: " + e);
    e.printStackTrace(cl.getErr());
    return ExitCodes.FAILURE;
  }
}
