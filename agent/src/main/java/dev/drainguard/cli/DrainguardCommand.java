package dev.drainguard.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code drainguard}: the agent's command line as picocli reads it. {@link Main} is the entry
 * point; this class is apart so that the launcher's check of Main's public methods loads no
 * picocli.
 */
@Command(
    name = "drainguard",
    mixinStandardHelpOptions = true,
    versionProvider = Version.Provider.class,
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
public final class DrainguardCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** The whole command line, ready to execute; tests use this too. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new DrainguardCommand());
    SettingOptions.addTo(cl.getSubcommands().get("run").getCommandSpec());
    SettingOptions.addTo(cl.getSubcommands().get("check").getCommandSpec());
    cl.setExecutionExceptionHandler(DrainguardCommand::handle);
    return cl;
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
  }

  private static int handle(Exception e, CommandLine cl, CommandLine.ParseResult parseResult) {
    return Main.failure(e, cl.getErr());
  }
}
