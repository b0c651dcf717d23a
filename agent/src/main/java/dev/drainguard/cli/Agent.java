package dev.drainguard.cli;

import dev.drainguard.aws.CredentialsProvider;
import dev.drainguard.config.AgentConfig;
import dev.drainguard.config.ConfigException;
import dev.drainguard.drain.CommandRunner;
import dev.drainguard.drain.DrainController;
import dev.drainguard.drain.DrainLoop;
import dev.drainguard.drain.DrainStatus;
import dev.drainguard.drain.Effects;
import dev.drainguard.drain.Event;
import dev.drainguard.drain.HoldStore;
import dev.drainguard.drain.HookDiscovery;
import dev.drainguard.drain.ImdsPoller;
import dev.drainguard.drain.Phase;
import dev.drainguard.drain.ShellCommandRunner;
import dev.drainguard.imds.HttpInstanceMetadata;
import dev.drainguard.imds.InstanceMetadata;
import dev.drainguard.lifecycle.GroupMembership;
import dev.drainguard.lifecycle.LifecycleActions;
import dev.drainguard.lifecycle.QueryLifecycleActions;
import dev.drainguard.metrics.AgentMetrics;
import dev.drainguard.metrics.FleetTags;
import dev.drainguard.metrics.MetricsServer;
import dev.drainguard.metrics.StatsdMetrics;
import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.net.RetryPolicy;
import dev.drainguard.net.Sleeper;
import dev.drainguard.queue.Probe;
import dev.drainguard.queue.ProbeReading;
import dev.drainguard.queue.ProbeSet;
import dev.drainguard.queue.QueueRootSpec;
import dev.drainguard.queue.QueueSnapshot;
import dev.drainguard.status.ControlServer;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running agent, assembled from its configuration with plain constructors: the IMDS and Auto
 * Scaling adapters, hook discovery, the queue watcher, the controller and its loop. {@link
 * #close()} stops it without sending anything to Auto Scaling.
 */
final class Agent implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Agent.class);

  private final HttpInstanceMetadata imds;
  private final QueryLifecycleActions api;
  private final ProbeSet watcher;
  private final ImdsPoller poller;
  private final DrainLoop loop;
  private final DrainController controller;
  private final Effects effects;
  private final ExecutorService commandThreads;
  private final ExecutorService callThreads;
  private final ControlServer control;
  private final MetricsServer metricsServer;
  private final StatsdMetrics fleet;
  private final CriblRedeploys redeploys;
  private boolean closed;

  /** How long the control socket waits for the drain loop to take a hold or release. */
  static final Duration CONTROL_WAIT = Duration.ofSeconds(20);

  /**
   * How long a release's answer waits for the drain to end, so that the operator is told "CONTINUE
   * sent" rather than "will be sent" when confirming and completing take the usual second or two.
   */
  static final Duration RELEASE_WAIT = Duration.ofSeconds(15);

  /**
   * Beyond the probe timeout, how long a confirmation (a full rescan, fresh readings) may go
   * unanswered before it is asked for again: a rescan of 100,000 files takes about a second.
   */
  static final Duration CONFIRM_ALLOWANCE = Duration.ofSeconds(5);

  /** Exit status when the decision thread dies: systemd restarts the agent (it keeps no state). */
  static final int DIED = 70;

  private Agent(
      HttpInstanceMetadata imds,
      QueryLifecycleActions api,
      ProbeSet watcher,
      ImdsPoller poller,
      DrainLoop loop,
      DrainController controller,
      Effects effects,
      ExecutorService commandThreads,
      ExecutorService callThreads,
      ControlServer control,
      MetricsServer metricsServer,
      StatsdMetrics fleet,
      CriblRedeploys redeploys) {
    this.imds = imds;
    this.api = api;
    this.watcher = watcher;
    this.poller = poller;
    this.loop = loop;
    this.controller = controller;
    this.effects = effects;
    this.commandThreads = commandThreads;
    this.callThreads = callThreads;
    this.control = control;
    this.metricsServer = metricsServer;
    this.fleet = fleet;
    this.redeploys = redeploys;
  }

  /**
   * Assembles and starts an agent; if its decision thread ever dies, the process exits with {@link
   * #DIED}.
   *
   * @throws FatalException when IMDS stays unreachable for the startup timeout
   * @throws ConfigException when the configuration does not fit the hook found
   * @throws HookDiscovery.DiscoveryException when no hook can be chosen
   */
  static Agent start(
      AgentConfig cfg,
      CredentialsProvider credentials,
      Clock clock,
      Sleeper sleeper,
      Consumer<DrainStatus> listener) {
    return start(
        cfg, credentials, clock, sleeper, listener, Optional.empty(), () -> System.exit(DIED));
  }

  /**
   * As {@link #start}, for tests: {@code clockRecheck} for a test clock that moves without the
   * agent knowing (the decision thread reads it again at least this often), {@code onDeath} instead
   * of exiting the JVM.
   */
  static Agent start(
      AgentConfig cfg,
      CredentialsProvider credentials,
      Clock clock,
      Sleeper sleeper,
      Consumer<DrainStatus> listener,
      Optional<Duration> clockRecheck,
      Runnable onDeath) {
    return start(
        cfg, credentials, clock, sleeper, listener, clockRecheck, onDeath, Optional.empty());
  }

  /** As above, checking Cribl's configuration every {@code criblEvery} (else its default). */
  static Agent start(
      AgentConfig cfg,
      CredentialsProvider credentials,
      Clock clock,
      Sleeper sleeper,
      Consumer<DrainStatus> listener,
      Optional<Duration> clockRecheck,
      Runnable onDeath,
      Optional<Duration> criblEvery) {
    LoopbackGuard guard = LoopbackGuard.of(cfg.loopbackOnly());
    HttpInstanceMetadata imds =
        new HttpInstanceMetadata(cfg.endpoints().imds(), guard, RetryPolicy.DEFAULT, sleeper);
    Optional<AgentMetrics> metrics = AgentParts.metrics(cfg, clock);
    InstanceMetadata meteredImds = metrics.isPresent() ? metrics.get().instrument(imds) : imds;
    MetricsServer metricsServer = null;
    StatsdMetrics fleet = null;
    QueryLifecycleActions api = null;
    ProbeSet watcher = null;
    ImdsPoller poller = null;
    DrainLoop startedLoop = null;
    ControlServer control = null;
    ExecutorService callThreads = null;
    ExecutorService commandThreads = null;
    try {
      Startup startup = new Startup(cfg, clock, sleeper);
      String instanceId = startup.retry("read the instance id from IMDS", meteredImds::instanceId);
      String region =
          cfg.region()
              .orElseGet(() -> startup.retry("read the region from IMDS", meteredImds::region));
      api =
          new QueryLifecycleActions(
              region,
              cfg.endpoints().autoScaling(region),
              credentials,
              guard,
              RetryPolicy.API,
              sleeper);
      LifecycleActions lifecycle = metrics.isPresent() ? metrics.get().instrument(api) : api;
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
      AgentParts.checkDeadlineMargin(cfg, found);
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
      List<Probe> probes = AgentParts.probes(cfg, guard, clock);
      ProbeSet.checkRule(cfg.drainedWhen(), probes);
      Map<String, Duration> probeAges = new LinkedHashMap<>();
      probes.forEach(p -> probeAges.put(p.name(), cfg.probeInterval().plus(cfg.probeTimeout())));
      // The decision loop exists before the sources start, so that no reading is missed; the
      // controller needs the watcher's first view, so events are queued until it is built.
      EarlyEvents sink = new EarlyEvents();
      watcher =
          new ProbeSet(
              cfg.queueRoots(),
              cfg.reconcileInterval(),
              probes,
              cfg.probeInterval(),
              clock,
              new ProbeSet.Listener() {
                @Override
                public void files(QueueSnapshot s, long seq, boolean rescan) {
                  sink.accept(new Event.FilesRead(s, seq, rescan));
                }

                @Override
                public void reading(ProbeReading r, long seq) {
                  sink.accept(new Event.ProbeRead(r, seq));
                }
              });
      ProbeSet probeSet = watcher;
      watcher.onDeath(onDeath);
      watcher.start();
      commandThreads = Executors.newCachedThreadPool(AgentParts.daemon("drainguard-command"));
      CommandRunner runner = new ShellCommandRunner(commandThreads, clock);
      DrainController controller =
          new DrainController(
              AgentParts.settings(cfg, initiallyProtected),
              found.ref(),
              found.hook(),
              cfg.drainedWhen(),
              probeAges,
              watcher.filesSnapshot(),
              clock.instant(),
              cfg.probeTimeout().plus(CONFIRM_ALLOWANCE),
              s -> {
                // once termination is noticed the watcher reports changes sooner (setUrgent),
                // every one near a deadline still to come; retained or ended, the deadline is
                // past and nothing acts on it: a busy writer's batches are held back again
                boolean ahead = s.phase() != Phase.RETAINED && !s.phase().terminal();
                probeSet.setUrgent(
                    s.phase() != Phase.IN_SERVICE, ahead ? s.deadline() : Optional.empty());
                metrics.ifPresent(m -> AgentParts.publish(m, s));
                listener.accept(s);
              });
      // The controller reports changes only: the metrics start from its first status.
      metrics.ifPresent(m -> m.onStatus(controller.status()));
      callThreads = Executors.newCachedThreadPool(AgentParts.daemon("drainguard-aws-call"));
      Effects effects =
          new Effects(
              lifecycle, runner, probeSet::confirm, callThreads, Effects.CALL_DEADLINE, sink);
      DrainLoop loop = new DrainLoop(controller, effects::execute, clock, clockRecheck, onDeath);
      startedLoop = loop;
      // Holds from before a restart apply before the first step; the socket (and metrics) is bound
      // before it too, so that a second agent started by mistake fails before it calls anything.
      controller.restoreHolds(
          cfg.stateDirectory().map(HoldStore::in).orElse(HoldStore.NONE), clock.instant());
      if (cfg.stateDirectory().isEmpty()) {
        log.info("no state-directory: an operator's hold does not survive a restart of the agent");
      }
      control =
          ControlServer.start(
              cfg.controlSocket(),
              cfg.controlGroup(),
              AgentParts.handler(loop, controller, clock, AgentParts.criblBuffers(cfg)),
              clock);
      if (cfg.metricsPort().isPresent()) {
        metricsServer =
            MetricsServer.start(
                metrics.orElseThrow(),
                cfg.metricsBind(),
                cfg.metricsPort().get(),
                cfg.metricsAllowRemote());
      }
      if (cfg.statsdAddress().isPresent()) {
        fleet =
            StatsdMetrics.start(
                metrics.orElseThrow(),
                cfg.statsdAddress().get(),
                cfg.statsdFlavor(),
                new FleetTags(
                    found.ref().groupName(), found.ref().instanceId(), found.ref().hookName()),
                guard);
      }
      loop.start();
      sink.deliverTo(loop);
      poller =
          new ImdsPoller(
              meteredImds,
              cfg.imdsPollInterval(),
              clock,
              clockRecheck,
              () -> !controller.status().phase().terminal(),
              () -> controller.status().phase() == Phase.IN_SERVICE,
              sink);
      poller.start();
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
      CriblRedeploys redeploys =
          CriblRedeploys.start(cfg.queueRootAuto(), watcher, criblEvery); // last: cannot fail
      return new Agent(
          imds,
          api,
          watcher,
          poller,
          loop,
          controller,
          effects,
          commandThreads,
          callThreads,
          control,
          metricsServer,
          fleet,
          redeploys);
    } catch (RuntimeException e) {
      // Whatever was started is stopped again, in the reverse order; nothing is sent.
      AgentParts.closeAll(
          fleet,
          poller,
          metricsServer,
          control,
          startedLoop,
          watcher,
          callThreads == null ? null : callThreads::shutdownNow,
          commandThreads == null ? null : commandThreads::shutdownNow,
          api,
          imds);
      throw e;
    }
  }

  DrainStatus status() {
    return controller.status();
  }

  /** When the decision thread next wakes on its own: test clocks must not step past it. */
  Optional<java.time.Instant> plannedWake() {
    return loop.plannedWake();
  }

  /** No event waiting, no step running, no call or confirmation in flight; for tests. */
  boolean settled() {
    return poller.idle() && effects.outstanding() == 0 && loop.idle() && effects.outstanding() == 0;
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
    if (fleet != null) {
      fleet.close();
    }
    control.close();
    poller.close();
    loop.close();
    redeploys.close();
    watcher.close();
    commandThreads.shutdownNow();
    callThreads.shutdownNow();
    api.close();
    imds.close();
    log.info("agent stopped phase={} (no lifecycle call is made on stop)", status().phase());
  }
}
