package dev.drainguard.cli;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code drainguard run}: the daemon. Runs until stopped; stopping never completes the action. */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    header = "Run the agent: hold terminations while the queues hold data.",
    description = {
      "Watch the queue roots, poll IMDS for termination, hold the termination",
      "lifecycle action while the queues hold data, and complete it when they have",
      "drained.",
      "Every option can also be set as DRAINGUARD_<OPTION> in the environment or as",
      "'option = value' in the config file; flags win over env over file over",
      "defaults. An option shown as [=BOOL] means true when given alone."
    })
final class RunCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description =
          "Config file. Default: $DRAINGUARD_CONFIG, else /etc/drainguard/drainguard.conf when it"
              + " exists.")
  Path config;

  /** Lets tests stop a running agent as SIGTERM would. */
  final CountDownLatch stop = new CountDownLatch(1);

  @Override
  public Integer call() throws InterruptedException {
    return AgentRun.run(SettingOptions.given(spec), Optional.ofNullable(config), stop);
  }
}
