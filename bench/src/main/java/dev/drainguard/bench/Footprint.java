package dev.drainguard.bench;

import dev.drainguard.sim.ApiCall;
import dev.drainguard.sim.Simulator;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The footprint window, with every process the packaged launcher's way:
 *
 * <ul>
 *   <li>an idle agent in service, all settings at their defaults (IMDS poll 5 s): its RSS and CPU
 *       time, and the Auto Scaling calls it makes (the simulator's record);
 *   <li>a bare JVM that only sleeps ({@link IdleJvm}), with the launcher's JVM options and
 *       environment for {@code run}: the baseline;
 *   <li>a holding agent (HeartbeatTimeout 30 s, data queued) whose scale-in starts at once with a
 *       deregistration delay of {@link #DEREGISTRATION}: its calls while the action is not active
 *       yet, and its heartbeat rhythm while it holds.
 * </ul>
 *
 * Figures are read {@link #WARM_UP} after the agents are ready, over {@code window}, and CPU
 * seconds extrapolated to an hour. The idle agent's decision-thread wake-ups are read from {@code
 * drainguard status --json} just before and just after the window. Then {@code drainguard status}
 * is timed against the idle agent, each run followed by a bare JVM that prints one line with the
 * launcher's options for {@code status} (the baseline, in the same conditions).
 */
final class Footprint implements AutoCloseable {

  static final String GROUP = "workers";
  static final String HOOK = "hold-queues";

  /** Start-up work (class loading, first JIT) is over by then; only the idle rhythm remains. */
  static final Duration WARM_UP = Duration.ofSeconds(10);

  /**
   * The window's steady part starts after its first {@code 1/STEADY_AFTER_PARTS}: by then the
   * methods a poll runs (a few hundred calls each) are compiled, and what is left is what every
   * further hour of the instance's life costs; the first part's compilations are paid once.
   */
  static final int STEADY_AFTER_PARTS = 3;

  /** A load balancer's deregistration, shortened: long enough for a few "not active yet" calls. */
  static final Duration DEREGISTRATION = Duration.ofSeconds(20);

  static final Duration HOLD_HEARTBEAT_TIMEOUT = Duration.ofSeconds(30);

  /** AWS's default HeartbeatTimeout, for the idle agent's hook (it does not matter in service). */
  static final Duration DEFAULT_HEARTBEAT_TIMEOUT = Duration.ofHours(1);

  static final int STATUS_RUNS = 20;

  /** {@code drainguard release} refused (exit 1): the holding agent still has data queued. */
  static final int RELEASE_REFUSED = 1;

  /**
   * @param bareJvm the JVM that only sleeps, with the launcher's options for {@code run}
   * @param bareJvmJdkWakeUps the same without the launcher's options that quieten the JVM's own
   *     wake-ups ({@link #WAKE_UP_OPTIONS}): what a sleeping JVM costs with the JDK's defaults
   * @param steady agent, bare JVM, bare JVM with the JDK's wake-ups over the window's steady part
   *     (after its first {@link #STEADY_AFTER_PARTS}th)
   */
  record Result(
      Usage agent,
      Usage bareJvm,
      Usage bareJvmJdkWakeUps,
      List<Usage> steady,
      Duration agentStartup,
      Duration bareJvmStartup,
      long inServiceCalls,
      Duration window,
      long awaitingCalls,
      Duration awaitingFor,
      List<Duration> heartbeatGaps,
      List<AgentProcess.Timed> statusTimes,
      List<AgentProcess.Timed> bareStatusTimes,
      List<AgentProcess.Timed> holdTimes,
      List<AgentProcess.Timed> releaseTimes,
      long decisionWakeups,
      Duration wakeupsOver,
      String loadAverages) {
    /** The idle agent's decision-thread wake-ups, extrapolated to an hour. */
    double wakeupsPerHour() {
      return decisionWakeups * 3600.0 / (wakeupsOver.toMillis() / 1000.0);
    }
  }

  private final Packaged pkg;
  private final Path work;
  private final Duration window;
  private final Simulator idleSim;
  private final Simulator holdSim;
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private AgentProcess idle;
  private AgentProcess holding;
  private Process bare;
  private Process bareJdkWakeUps;
  private Map<String, String> idleEnv;
  private Map<String, String> holdEnv;
  private Path holdDir;
  private Duration idleStartup;
  private Duration bareStartup;
  private Instant holdTerminated;
  private Thread windowThread;
  private volatile long windowStart;
  private volatile Exception windowFailure;
  private volatile Usage agentUsage;
  private volatile Usage bareUsage;
  private volatile Usage bareJdkUsage;

  /** Agent, bare JVM and bare JVM with the JDK's wake-ups over the window's steady part. */
  private volatile List<Usage> steadyUsage;

  private volatile long inServiceCalls;
  private volatile long decisionWakeups;
  private volatile Duration wakeupsOver;
  private String benchClasspath;
  private volatile String loadAtWindowStart;
  private volatile String loadAtWindowEnd;
  private final long[] peak = new long[3];

  /** Refuses a window longer than {@link #MAX_WINDOW}. */
  static void checkWindow(Duration window) {
    if (window.compareTo(MAX_WINDOW) > 0) {
      throw new IllegalArgumentException(
          "--window "
              + window.toSeconds()
              + " is too long for the footprint section: at most "
              + MAX_WINDOW.toSeconds()
              + " s, while the holding agent's action (HeartbeatTimeout 30 s, global timeout 50"
              + " min) is still open for hold and release to be timed");
    }
  }

  /**
   * The longest window: the holding agent's action (global timeout 100 × 30 s) must still be open
   * when {@code hold} and {@code release} are timed, 5 minutes to spare.
   */
  static final Duration MAX_WINDOW = HOLD_HEARTBEAT_TIMEOUT.multipliedBy(100).minusMinutes(5);

  Footprint(Packaged pkg, Path work, Duration window) {
    checkWindow(window);
    this.pkg = pkg;
    this.work = work;
    this.window = window;
    idleSim = Simulator.start(Clock.systemUTC());
    holdSim = Simulator.start(Clock.systemUTC());
    toClose.add(idleSim);
    toClose.add(holdSim);
  }

  /** Starts the three processes and, once they are ready and warm, the window. */
  void start(String benchClasspath) throws IOException, InterruptedException {
    this.benchClasspath = benchClasspath;
    Packaged.deleteTree(work.resolve("footprint")); // an earlier run's logs and sockets
    idleSim.addGroup(GROUP);
    idleSim.addInstance(GROUP, "i-0000000000000idle", "us-east-1", true);
    idleSim.addTerminationHook(GROUP, HOOK, DEFAULT_HEARTBEAT_TIMEOUT, "ABANDON");
    holdSim.addGroup(GROUP);
    holdSim.addInstance(GROUP, "i-0000000000000hold", "us-east-1", true);
    holdSim.addTerminationHook(GROUP, HOOK, HOLD_HEARTBEAT_TIMEOUT, "ABANDON");
    holdSim.setDeregistrationDelay(DEREGISTRATION);

    Path idleDir = Files.createDirectories(work.resolve("footprint/idle"));
    Path idleRoot =
        Files.createDirectories(idleDir.resolve("queues/0/out-s3")).getParent().getParent();
    // As on EC2: no keys in the environment, the instance profile's through IMDS (the agent reads
    // them at its first Auto Scaling call, at start, and keeps them until near their expiry).
    idleSim.setInstanceProfile(
        "drainguard-worker",
        "ASIAIDLEBENCHEXAMPLE",
        "idle-bench-secret",
        "idle-bench-session-token",
        Instant.now().plus(Duration.ofHours(6)).truncatedTo(ChronoUnit.SECONDS));
    idleEnv = new HashMap<>(AgentProcess.env(idleSim, idleDir, idleRoot, Map.of()));
    idleEnv.remove("AWS_ACCESS_KEY_ID");
    idleEnv.remove("AWS_SECRET_ACCESS_KEY");
    idleEnv.remove("AWS_EC2_METADATA_DISABLED");
    idle = AgentProcess.start(pkg, idleEnv, idleDir);
    toClose.add(idle);

    holdDir = Files.createDirectories(work.resolve("footprint/holding"));
    Path holdQueue = Files.createDirectories(holdDir.resolve("queues/0/out-s3"));
    Files.write(holdQueue.resolve("00000001.pq"), new byte[4096]);
    holdEnv = AgentProcess.env(holdSim, holdDir, holdQueue.getParent().getParent(), Map.of());
    holding = AgentProcess.start(pkg, holdEnv, holdDir);
    toClose.add(holding);

    Packaged.LaunchOptions run = pkg.launchOptions("run", work);
    bare = startBareJvm(run);
    bareStartup = startedIn;
    Process jdk = startBareJvm(run.without(WAKE_UP_OPTIONS));
    bareJdkWakeUps = jdk;
    for (Process p : List.of(bare, jdk)) {
      toClose.add(
          () -> {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
          });
    }

    idleStartup = idle.awaitReady();
    holding.awaitReady();
    holdTerminated = Instant.now();
    holdSim.terminate("i-0000000000000hold");
    windowThread = new Thread(this::measureWindow, "bench-footprint-window");
    windowThread.setDaemon(true);
    windowThread.start();
  }

  /**
   * On its own thread, so that other benchmarks can run meanwhile: waits {@link #WARM_UP}, reads
   * the start figures, samples RSS every second for the window, reads the end figures.
   */
  private void measureWindow() {
    try {
      Thread.sleep(WARM_UP.toMillis());
      loadAtWindowStart = Proc.loadAverage();
      long wakeups0 = AgentProcess.decisionWakeups(pkg, idleEnv);
      long wakeups0At = System.nanoTime();
      windowStart = System.nanoTime();
      CpuWindow agent = new CpuWindow(idle.pid());
      CpuWindow bareJvm = new CpuWindow(bare.pid());
      CpuWindow bareJdk = new CpuWindow(bareJdkWakeUps.pid());
      long idleCalls0 = idleSim.calls().size();
      long end = windowStart + window.toNanos();
      long steadyFrom = windowStart + window.toNanos() / STEADY_AFTER_PARTS;
      CpuWindow[] steady = null;
      long steadyStart = 0;
      while (System.nanoTime() - end < 0) {
        samplePeaks();
        if (steady == null && System.nanoTime() - steadyFrom >= 0) {
          steadyStart = System.nanoTime();
          steady =
              new CpuWindow[] {
                new CpuWindow(idle.pid()),
                new CpuWindow(bare.pid()),
                new CpuWindow(bareJdkWakeUps.pid())
              };
        }
        Thread.sleep(Math.max(1, Math.min(1000, (end - System.nanoTime()) / 1_000_000)));
      }
      Duration measured = Duration.ofNanos(System.nanoTime() - windowStart);
      if (steady != null) {
        Duration steadyFor = Duration.ofNanos(System.nanoTime() - steadyStart);
        steadyUsage =
            List.of(
                steady[0].end(peak[0], steadyFor),
                steady[1].end(peak[1], steadyFor),
                steady[2].end(peak[2], steadyFor));
      }
      samplePeaks();
      agentUsage = agent.end(peak[0], measured);
      bareUsage = bareJvm.end(peak[1], measured);
      bareJdkUsage = bareJdk.end(peak[2], measured);
      inServiceCalls = idleSim.calls().size() - idleCalls0;
      long wakeups1At = System.nanoTime();
      // minus the end request's own wake-up (the start request's is in wakeups0)
      decisionWakeups = AgentProcess.decisionWakeups(pkg, idleEnv) - wakeups0 - 1;
      wakeupsOver = Duration.ofNanos(wakeups1At - wakeups0At);
      loadAtWindowEnd = Proc.loadAverage();
    } catch (RuntimeException | IOException | InterruptedException e) {
      windowFailure = e;
    }
  }

  /** The launcher's options that quieten the JVM's own periodic wake-ups (issue 15). */
  static final List<String> WAKE_UP_OPTIONS =
      List.of(
          "-XX:+UnlockDiagnosticVMOptions",
          "-XX:AsyncDeflationInterval=",
          "-XX:GuaranteedSafepointInterval=");

  private Duration startedIn;

  private Process startBareJvm(Packaged.LaunchOptions opts)
      throws IOException, InterruptedException {
    List<String> cmd = bareJvmCommand(opts);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    opts.applyTo(pb.environment());
    long t0 = System.nanoTime();
    Process p = AgentProcess.track(pb.redirectErrorStream(true).start());
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream()));
    String line = out.readLine();
    startedIn = Duration.ofNanos(System.nanoTime() - t0);
    if (!"ready".equals(line)) {
      throw new IllegalStateException("the bare JVM said " + line + " (command " + cmd + ")");
    }
    return p;
  }

  /** {@link IdleJvm} with the given launcher options and arguments. */
  private List<String> bareJvmCommand(Packaged.LaunchOptions opts, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(opts.jvmOptions());
    cmd.addAll(List.of("-cp", benchClasspath, IdleJvm.class.getName()));
    cmd.addAll(List.of(args));
    return cmd;
  }

  /** Reads RSS now and then while the caller runs other benchmarks. */
  void samplePeaks() {
    peak[0] = Math.max(peak[0], Proc.rssKib(idle.pid()));
    peak[1] = Math.max(peak[1], Proc.rssKib(bare.pid()));
    peak[2] = Math.max(peak[2], Proc.rssKib(bareJdkWakeUps.pid()));
  }

  /** Waits for the end of the window, then times {@code status}. */
  Result finish() throws IOException, InterruptedException {
    windowThread.join();
    if (windowFailure != null) {
      throw new IllegalStateException("the footprint window failed", windowFailure);
    }
    List<ApiCall> hold =
        holdSim.calls().stream()
            .filter(c -> "i-0000000000000hold".equals(c.params().get("InstanceId")))
            .filter(c -> !c.at().isBefore(holdTerminated))
            .toList();
    List<ApiCall> accepted =
        hold.stream().filter(c -> c.action().equals(Reaction.HEARTBEAT) && c.succeeded()).toList();
    Instant active = accepted.isEmpty() ? Instant.now() : accepted.get(0).at();
    long awaiting = hold.stream().filter(c -> c.at().isBefore(active)).count();
    List<Duration> gaps = new ArrayList<>();
    for (int i = 1; i < accepted.size(); i++) {
      gaps.add(Duration.between(accepted.get(i - 1).at(), accepted.get(i).at()));
    }
    if (!holding.alive()) {
      throw new IllegalStateException("the holding agent died:\n" + holding.output());
    }

    String loadAtStatus = Proc.loadAverage();
    List<AgentProcess.Timed> status = new ArrayList<>();
    List<AgentProcess.Timed> bareStatus = new ArrayList<>();
    Path statusDir = work.resolve("footprint/idle");
    List<String> bareOnce = bareJvmCommand(pkg.launchOptions("status", work), "once");
    Map<String, String> bareEnv = new TreeMap<>(idleEnv);
    pkg.launchOptions("status", work).applyTo(bareEnv);
    // hold (accepted) and release (refused: data is queued) against the holding agent: real
    // exchanges that change nothing the figures above depend on
    List<String> holdCmd = List.of(pkg.launcher().toString(), "hold", "--reason", "bench");
    List<String> releaseCmd = List.of(pkg.launcher().toString(), "release", "--reason", "bench");
    List<AgentProcess.Timed> holds = new ArrayList<>();
    List<AgentProcess.Timed> releases = new ArrayList<>();
    AgentProcess.timeStatus(pkg, idleEnv, statusDir); // first runs: page cache, not counted
    AgentProcess.time(bareOnce, bareEnv, statusDir);
    AgentProcess.time(holdCmd, holdEnv, holdDir);
    AgentProcess.time(releaseCmd, holdEnv, holdDir, RELEASE_REFUSED);
    for (int i = 0; i < STATUS_RUNS; i++) {
      status.add(AgentProcess.timeStatus(pkg, idleEnv, statusDir));
      bareStatus.add(AgentProcess.time(bareOnce, bareEnv, statusDir));
      holds.add(AgentProcess.time(holdCmd, holdEnv, holdDir));
      releases.add(AgentProcess.time(releaseCmd, holdEnv, holdDir, RELEASE_REFUSED));
    }
    return new Result(
        agentUsage,
        bareUsage,
        bareJdkUsage,
        steadyUsage,
        idleStartup,
        bareStartup,
        inServiceCalls,
        agentUsage.window(),
        awaiting,
        Duration.between(holdTerminated, active),
        gaps,
        status,
        bareStatus,
        holds,
        releases,
        decisionWakeups,
        wakeupsOver,
        String.format(
            "%s at the window's start, %s at its end, %s when status was timed",
            loadAtWindowStart, loadAtWindowEnd, loadAtStatus));
  }

  @Override
  public void close() {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      try {
        toClose.get(i).close();
      } catch (Exception e) {
        System.err.println("bench: closing " + toClose.get(i) + " failed: " + e);
      }
    }
  }
}
