package dev.drainguard.cli;

import dev.drainguard.config.AgentConfig;
import dev.drainguard.config.ConfigException;
import dev.drainguard.cribl.CriblBuffer;
import dev.drainguard.drain.ControlResult;
import dev.drainguard.drain.DrainController;
import dev.drainguard.drain.DrainLoop;
import dev.drainguard.drain.DrainSettings;
import dev.drainguard.drain.DrainStatus;
import dev.drainguard.drain.HookDiscovery;
import dev.drainguard.drain.ProtectionSettings;
import dev.drainguard.forecast.ForecastSettings;
import dev.drainguard.metrics.AgentMetrics;
import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.operator.Caller;
import dev.drainguard.queue.CommandProbe;
import dev.drainguard.queue.CriblApiProbe;
import dev.drainguard.queue.Probe;
import dev.drainguard.status.ControlHandler;
import dev.drainguard.status.StatusView;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The pieces {@link Agent#start} assembles an agent from, built from its configuration. */
final class AgentParts {

  private static final Logger log = LoggerFactory.getLogger(Agent.class);

  private AgentParts() {}

  /**
   * The agent's metrics when something reads them (a scrape port, a StatsD address); without an
   * exporter, Micrometer and its registries would cost a few MiB and ~200 classes for no reader.
   */
  static Optional<AgentMetrics> metrics(AgentConfig cfg, Clock clock) {
    return cfg.metricsPort().isPresent() || cfg.statsdAddress().isPresent()
        ? Optional.of(new AgentMetrics(clock, Version.get()))
        : Optional.empty();
  }

  /** The controller's latest status, into the metrics. */
  static void publish(AgentMetrics metrics, DrainStatus s) {
    metrics.onStatus(s);
    metrics.onQueues(s.queues());
    metrics.onForecast(s.forecast());
  }

  /** The scheduled probes the configuration enables, beside the filesystem watcher. */
  static List<Probe> probes(AgentConfig cfg, LoopbackGuard guard, Clock clock) {
    List<Probe> probes = new ArrayList<>();
    cfg.queueProbeCommand()
        .ifPresent(c -> probes.add(new CommandProbe(c, cfg.probeTimeout(), clock)));
    cfg.criblApiUrl()
        .ifPresent(
            u ->
                probes.add(
                    new CriblApiProbe(
                        u,
                        cfg.criblTokenFile(),
                        cfg.criblWorkerProcesses(),
                        cfg.probeTimeout(),
                        guard,
                        clock)));
    return probes;
  }

  /** What the control socket asks, answered on the drain loop's thread. */
  static ControlHandler handler(
      DrainLoop loop, DrainController controller, Clock clock, List<String> criblBuffers) {
    Instant startedAt = clock.instant();
    String version = Version.get();
    long pid = ProcessHandle.current().pid();
    return new ControlHandler() {
      @Override
      public StatusView status() {
        return StatusView.of(
                controller.status(), version, pid, startedAt, clock.instant(), loop.wakeups())
            .withCriblBuffers(criblBuffers);
      }

      @Override
      public ControlResult hold(Caller caller, String reason) {
        return loop.call(c -> c.hold(caller, reason, clock.instant()), Agent.CONTROL_WAIT);
      }

      @Override
      public ControlResult release(Caller caller, boolean force, String reason) {
        ControlResult r =
            loop.call(c -> c.release(caller, force, reason, clock.instant()), Agent.CONTROL_WAIT);
        return r.accepted() ? Releases.awaitEnd(r, controller::status, Agent.RELEASE_WAIT) : r;
      }
    };
  }

  static DrainSettings settings(AgentConfig cfg, boolean initiallyProtected) {
    return new DrainSettings(
        cfg.quietPeriod(),
        cfg.heartbeatInterval(),
        cfg.actionGrace(),
        cfg.deadlinePolicy(),
        cfg.deadlineMargin(),
        cfg.maxHold(),
        cfg.imdsPollInterval(),
        cfg.beforeCompleteCommand(),
        cfg.commandTimeout(),
        cfg.onTerminationCommand(),
        new ProtectionSettings(
            cfg.protectWhileBusy(),
            cfg.protectThreshold(),
            cfg.protectAfter(),
            cfg.protectInterval(),
            initiallyProtected),
        ForecastSettings.of(cfg.stallAfter(), cfg.probeInterval()));
  }

  static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /**
   * @throws ConfigException when deadline-margin is not shorter than the hook's global timeout
   */
  static void checkDeadlineMargin(AgentConfig cfg, HookDiscovery.Found found) {
    if (!found.missing() && cfg.deadlineMargin().compareTo(found.hook().globalTimeout()) >= 0) {
      throw new ConfigException(
          "deadline-margin "
              + cfg.deadlineMargin()
              + " is not shorter than the global timeout "
              + found.hook().globalTimeout()
              + " of hook="
              + found.hook().name()
              + ": lower --deadline-margin");
    }
  }

  /**
   * Cribl's local buffers as {@code queue-root auto} found them at start, one line each with the
   * root that covers it: what status shows beside the roots.
   */
  static List<String> criblBuffers(AgentConfig cfg) {
    return cfg.queueRootAuto()
        .map(
            a ->
                a.inventory().buffers().stream()
                    .map(
                        b ->
                            b.describe()
                                + b.coveredBy(a.rootPaths())
                                    .map(r -> ", covered by " + r)
                                    .orElse(
                                        b.exposure() == CriblBuffer.Exposure.HELD
                                            ? ", NOT covered by any queue root"
                                            : ", listed only"))
                    .toList())
        .orElse(List.of());
  }

  /** Closes what a failed start had started, in the order given; nulls are skipped. */
  static void closeAll(AutoCloseable... parts) {
    for (AutoCloseable c : parts) {
      if (c == null) {
        continue;
      }
      try {
        c.close();
      } catch (Exception closing) {
        log.warn("closing after a failed start: {}", closing.toString());
      }
    }
  }
}
