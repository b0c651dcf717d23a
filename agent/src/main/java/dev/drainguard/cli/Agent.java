package dev.drainguard.cli;

import dev.drainguard.config.AgentConfig;
import dev.drainguard.config.ConfigException;
import dev.drainguard.drain.CommandRunner;
import dev.drainguard.drain.ControlResult;
import dev.drainguard.drain.DrainController;
import dev.drainguard.drain.DrainLoop;
import dev.drainguard.drain.DrainSettings;
import dev.drainguard.drain.DrainStatus;
import dev.drainguard.drain.HoldStore;
import dev.drainguard.drain.HookDiscovery;
import dev.drainguard.drain.ProtectionSettings;
import dev.drainguard.drain.ShellCommandRunner;
import dev.drainguard.imds.InstanceMetadata;
import dev.drainguard.imds.SdkInstanceMetadata;
import dev.drainguard.lifecycle.GroupMembership;
import dev.drainguard.lifecycle.LifecycleActions;
import dev.drainguard.lifecycle.SdkLifecycleActions;
import dev.drainguard.metrics.AgentMetrics;
import dev.drainguard.metrics.MetricsServer;
import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.net.RetryPolicy;
import dev.drainguard.net.Sleeper;
import dev.drainguard.operator.Caller;
import dev.drainguard.queue.CommandProbe;
import dev.drainguard.queue.CriblApiProbe;
import dev.drainguard.queue.Probe;
import dev.drainguard.queue.ProbeSet;
import dev.drainguard.queue.QueueRootSpec;
import dev.drainguard.status.ControlHandler;
import dev.drainguard.status.ControlServer;
import dev.drainguard.status.StatusView;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;

/**
 * One running agent, assembled from its configuration with plain constructors: the IMDS and Auto
 * Scaling adapters, hook discovery, the queue watcher, the controller and its loop. {@link
 * #close()} stops it without sending anything to Auto Scaling.
 */
final class Agent implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Agent.class);

  private final SdkInstanceMetadata imds;
  private final SdkLifecycleActions api;
  private final ProbeSet watcher;
  private final DrainLoop loop;
  private final DrainController controller;
  private final ExecutorService commandThreads;
  private final ExecutorService spotReads;
  private final ControlServer control;
  private final MetricsServer metricsServer;
  private boolean closed;

  /** How long the control socket waits for the drain loop to take a hold or release. */
  static final Duration CONTROL_WAIT = Duration.ofSeconds(20);

  private Agent(
      SdkInstanceMetadata imds,
      SdkLifecycleActions api,
      ProbeSet watcher,
      DrainLoop loop,
      DrainController controller,
      ExecutorService commandThreads,
      ExecutorService spotReads,
      ControlServer control,
      MetricsServer metricsServer) {
    this.imds = imds;
    this.api = api;
    this.watcher = watcher;
    this.loop = loop;
    this.controller = controller;
    this.commandThreads = commandThreads;
    this.spotReads = spotReads;
    this.control = control;
    this.metricsServer = metricsServer;
  }

  /**
   * Assembles and starts an agent.
   *
   * @throws FatalException when IMDS stays unreachable for the startup timeout
   * @throws ConfigException when the configuration does not fit the hook found
   * @throws HookDiscovery.DiscoveryException when no hook can be chosen
   */
  static Agent start(
      AgentConfig cfg,
      AwsCredentialsProvider credentials,
      Clock clock,
      Sleeper sleeper,
      Consumer<DrainStatus> listener) {
    return start(cfg, credentials, clock, sleeper, listener, DrainLoop.TICK);
  }

  /** As {@link #start}, with the loop's tick chosen (tests tick fast to move a clock quickly). */
  static Agent start(
      AgentConfig cfg,
      AwsCredentialsProvider credentials,
      Clock clock,
      Sleeper sleeper,
      Consumer<DrainStatus> listener,
      Duration tick) {
    LoopbackGuard guard = LoopbackGuard.of(cfg.loopbackOnly());
    SdkInstanceMetadata imds =
        new SdkInstanceMetadata(cfg.imdsEndpoint(), guard, RetryPolicy.DEFAULT, sleeper);
    AgentMetrics metrics = new AgentMetrics(clock, Version.get());
    InstanceMetadata meteredImds = metrics.instrument(imds);
    MetricsServer metricsServer = null;
    SdkLifecycleActions api = null;
    ProbeSet watcher = null;
    DrainLoop startedLoop = null;
    ControlServer control = null;
    ExecutorService spotReads = null;
    try {
      Startup startup = new Startup(cfg, clock, sleeper);
      String instanceId = startup.retry("read the instance id from IMDS", meteredImds::instanceId);
      String region =
          cfg.region()
              .orElseGet(() -> startup.retry("read the region from IMDS", meteredImds::region));
      api =
          new SdkLifecycleActions(
              region,
              cfg.autoScalingEndpoint().orElse(null),
              credentials,
              guard,
              RetryPolicy.API,
              sleeper);
      LifecycleActions lifecycle = metrics.instrument(api);
      HookDiscovery.Found found =
          startup.retry(
              "discover the termination lifecycle hook",
              () ->
                  HookDiscovery.discover(
                      instanceId,
                      cfg.groupName(),
                      cfg.groupFromTags(),
                      cfg.hookName(),
                      meteredImds,
                      lifecycle));
      if (cfg.deadlineMargin().compareTo(found.hook().globalTimeout()) >= 0) {
        throw new ConfigException(
            "deadline-margin "
                + cfg.deadlineMargin()
                + " is not shorter than the global timeout "
                + found.hook().globalTimeout()
                + " of hook="
                + found.hook().name()
                + ": lower --deadline-margin");
      }
      // With protect-while-busy, protection is the agent's to manage: find out whether an earlier
      // run left the instance protected, so that it is given back once the queues drain.
      boolean initiallyProtected =
          cfg.protectWhileBusy()
              && startup
                  .retry(
                      "describe this instance's scale-in protection",
                      () -> lifecycle.describeInstance(instanceId))
                  .map(GroupMembership::protectedFromScaleIn)
                  .orElse(false);
      ScheduledExecutorService scheduler =
          Executors.newSingleThreadScheduledExecutor(daemon("drainguard-drain"));
      DrainLoop loop = new DrainLoop(scheduler, tick);
      startedLoop = loop;
      List<Probe> probes = probes(cfg, guard, clock);
      watcher =
          new ProbeSet(
              cfg.queueRoots(),
              cfg.reconcileInterval(),
              probes,
              cfg.probeInterval(),
              cfg.drainedWhen(),
              clock,
              s -> {
                loop.onQueues(s);
                metrics.onQueues(s);
              });
      watcher.start();
      ExecutorService commandThreads = Executors.newCachedThreadPool(daemon("drainguard-command"));
      CommandRunner runner = new ShellCommandRunner(commandThreads, clock);
      // Spot notice reads off the loop's thread: a slow IMDS must not hold up a heartbeat.
      spotReads = Executors.newSingleThreadExecutor(daemon("drainguard-spot-notices"));
      DrainController controller =
          new DrainController(
              settings(cfg, initiallyProtected),
              meteredImds,
              lifecycle,
              found.ref(),
              found.hook(),
              watcher,
              runner,
              clock,
              s -> {
                metrics.onStatus(s);
                listener.accept(s);
              },
              spotReads);
      // The controller reports changes only: the metrics start from its first status.
      metrics.onStatus(controller.status());
      // Bind the socket (and metrics) before the first tick: a second agent started by mistake
      // must fail before it calls anything.
      // An operator's hold from before a restart holds again before the first tick can complete.
      controller.restoreHolds(cfg.stateDirectory().map(HoldStore::in).orElse(HoldStore.NONE));
      if (cfg.stateDirectory().isEmpty()) {
        log.info("no state-directory: an operator's hold does not survive a restart of the agent");
      }
      control =
          ControlServer.start(
              cfg.controlSocket(), cfg.controlGroup(), handler(loop, controller, clock), clock);
      if (cfg.metricsPort().isPresent()) {
        metricsServer =
            MetricsServer.start(
                metrics, cfg.metricsBind(), cfg.metricsPort().get(), cfg.metricsAllowRemote());
      }
      loop.start(controller);
      log.info(
          "agent started {} roots={} probes={} drainedWhen={} quietPeriod={} heartbeatEvery={}"
              + " policy={}",
          found.ref(),
          cfg.queueRoots().stream().map(QueueRootSpec::root).toList(),
          probes.stream().map(Probe::describe).toList(),
          cfg.drainedWhen(),
          cfg.quietPeriod(),
          DrainController.heartbeatInterval(
              cfg.heartbeatInterval(), found.hook().heartbeatTimeout()),
          cfg.deadlinePolicy());
      return new Agent(
          imds, api, watcher, loop, controller, commandThreads, spotReads, control, metricsServer);
    } catch (RuntimeException e) {
      if (metricsServer != null) {
        metricsServer.close();
      }
      if (control != null) {
        control.close();
      }
      if (startedLoop != null) {
        startedLoop.close();
      }
      if (watcher != null) {
        watcher.close();
      }
      if (spotReads != null) {
        spotReads.shutdownNow();
      }
      if (api != null) {
        api.close();
      }
      imds.close();
      throw e;
    }
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
  private static ControlHandler handler(DrainLoop loop, DrainController controller, Clock clock) {
    Instant startedAt = clock.instant();
    String version = Version.get();
    long pid = ProcessHandle.current().pid();
    return new ControlHandler() {
      @Override
      public StatusView status() {
        return StatusView.of(controller.status(), version, pid, startedAt, clock.instant());
      }

      @Override
      public ControlResult hold(Caller caller, String reason) {
        return loop.call(c -> c.hold(caller, reason), CONTROL_WAIT);
      }

      @Override
      public ControlResult release(Caller caller, boolean force, String reason) {
        return loop.call(c -> c.release(caller, force, reason), CONTROL_WAIT);
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
            initiallyProtected));
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  DrainStatus status() {
    return controller.status();
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (metricsServer != null) {
      metricsServer.close();
    }
    control.close();
    loop.close();
    watcher.close();
    commandThreads.shutdownNow();
    spotReads.shutdownNow();
    api.close();
    imds.close();
    log.info("agent stopped phase={} (no lifecycle call is made on stop)", status().phase());
  }
}
