package dev.drainguard.cli;

import dev.drainguard.config.AgentConfig;
import dev.drainguard.imds.ImdsException;
import dev.drainguard.lifecycle.LifecycleApiException;
import dev.drainguard.net.Sleeper;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Start-up steps that need IMDS or the Auto Scaling API, each retried until {@code
 * imds-startup-timeout} has passed since start: an agent started with the instance, or in a mass
 * scale-in that throttles the API, waits instead of dying. Then one line says what failed.
 */
final class Startup {

  private static final Logger log = LoggerFactory.getLogger(Startup.class);

  /** Pause between start-up attempts; each attempt has its own retries inside the adapter. */
  static final Duration PAUSE = Duration.ofSeconds(2);

  private final AgentConfig cfg;
  private final Clock clock;
  private final Sleeper sleeper;
  private final Instant giveUp;

  Startup(AgentConfig cfg, Clock clock, Sleeper sleeper) {
    this.cfg = cfg;
    this.clock = clock;
    this.sleeper = sleeper;
    this.giveUp = clock.instant().plus(cfg.imdsStartupTimeout());
  }

  <T> T retry(String what, Supplier<T> step) {
    while (true) {
      try {
        return step.get();
      } catch (ImdsException | LifecycleApiException e) {
        if (!clock.instant().isBefore(giveUp)) {
          throw new FatalException(message(what, e), e);
        }
        log.warn("could not {} yet, retrying: {}", what, e.getMessage());
        sleeper.sleep(PAUSE);
      }
    }
  }

  private String message(String what, RuntimeException e) {
    if (e instanceof ImdsException) {
      return "could not "
          + what
          + ": IMDS at "
          + cfg.imdsEndpoint()
          + " did not answer within imds-startup-timeout "
          + cfg.imdsStartupTimeout()
          + " ("
          + e.getMessage()
          + "); not an EC2 instance? Point --imds-endpoint (DRAINGUARD_IMDS_ENDPOINT) at a"
          + " reachable metadata service";
    }
    return "could not "
        + what
        + " within imds-startup-timeout "
        + cfg.imdsStartupTimeout()
        + ": "
        + e.getMessage()
        + "; check the instance role's permissions ('drainguard check' tells which)";
  }
}
