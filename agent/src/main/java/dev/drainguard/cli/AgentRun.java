package dev.drainguard.cli;

import dev.drainguard.config.AgentConfig;
import dev.drainguard.config.ConfigLoader;
import dev.drainguard.config.Setting;
import dev.drainguard.drain.MonotonicClock;
import dev.drainguard.net.LoopbackGuard;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

/**
 * What {@code drainguard run} does, whether picocli read its command line ({@link RunCommand}) or
 * the lean path did ({@link LeanArgs}: a {@code run} with no setting on it, as systemd starts it).
 * Nothing here touches picocli, so that an agent started the lean way never loads it.
 */
final class AgentRun {

  private AgentRun() {}

  /**
   * Runs the agent until {@code stop} is counted down or the JVM is told to stop (SIGTERM).
   *
   * @param flags the settings given on the command line
   */
  static int run(Map<Setting, List<String>> flags, Optional<Path> config, CountDownLatch stop)
      throws InterruptedException {
    AgentConfig cfg = new ConfigLoader(flags, System.getenv(), config).load();
    Logging.setLevel(cfg.logLevel());
    cfg.queueRootAuto().ifPresent(r -> r.log("at start"));
    Agent agent =
        Agent.start(
            cfg,
            Credentials.provider(cfg.endpoints().imds(), LoopbackGuard.of(cfg.loopbackOnly())),
            MonotonicClock.start(),
            ThreadSleeper.INSTANCE,
            s -> {});
    Thread hook =
        new Thread(
            () -> {
              agent.close();
              stop.countDown();
            },
            "drainguard-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    stop.await();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
      agent.close();
    } catch (IllegalStateException shuttingDown) {
      // SIGTERM: the hook has closed the agent.
    }
    return ExitCodes.OK;
  }
}
