package dev.drainguard.cli;

import static org.awaitility.Awaitility.await;

import dev.drainguard.aws.AwsCredentials;
import dev.drainguard.aws.CredentialsProvider;
import dev.drainguard.config.AgentConfig;
import dev.drainguard.config.ConfigLoader;
import dev.drainguard.config.Setting;
import dev.drainguard.drain.DrainStatus;
import dev.drainguard.drain.Phase;
import dev.drainguard.net.Sleeper;
import dev.drainguard.queue.ProbeSet;
import dev.drainguard.sim.ApiCall;
import dev.drainguard.sim.Simulator;
import dev.drainguard.testing.MutableClock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;

/**
 * One worker group in the simulator and the real agent against it, over loopback, on a clock that
 * stands still until the test moves it. {@link #advance(Duration)} moves it in steps and waits
 * until the agent has evaluated each, so no heartbeat is skipped by a jump.
 */
final class ScaleInHarness implements AutoCloseable {

  static final String GROUP = "workers";
  static final String HOOK = "hold-queues";
  static final String INSTANCE = "i-0123456789abcdef0";

  /** Longest step of the clock: a quarter of the 20 s heartbeat interval these tests use. */
  static final Duration STEP = Duration.ofSeconds(5);

  /**
   * How often the agent's decision thread reads the test clock again: the clock moves without
   * telling it, so each clock step is evaluated within milliseconds.
   */
  static final Duration TICK = Duration.ofMillis(5);

  /** What a test agent does if its decision thread dies: fail loudly instead of exiting the JVM. */
  static final Runnable DIED =
      () -> {
        throw new AssertionError("the agent's decision thread died");
      };

  /** How long one clock step may take to be evaluated before the test fails. */
  static final Duration SETTLE_LIMIT = Duration.ofSeconds(10);

  static final Duration SETTLE_POLL = Duration.ofMillis(1);

  final MutableClock clock = MutableClock.atNewYear();
  final Simulator sim = Simulator.start(clock);
  final List<Agent> agents = new ArrayList<>();
  final Map<Setting, List<String>> flags = new EnumMap<>(Setting.class);
  Agent agent;
  final Path controlDir;

  ScaleInHarness(Duration heartbeatTimeout, Duration deregistration, Path... roots) {
    this(true, heartbeatTimeout, deregistration, roots);
  }

  /** As above; without a termination hook when {@code withHook} is false (one made later). */
  ScaleInHarness(
      boolean withHook, Duration heartbeatTimeout, Duration deregistration, Path... roots) {
    sim.addGroup(GROUP);
    sim.addInstance(GROUP, INSTANCE, "eu-west-1", true);
    if (withHook) {
      sim.addTerminationHook(GROUP, HOOK, heartbeatTimeout, "ABANDON");
    }
    sim.setDeregistrationDelay(deregistration);
    List<String> r = new ArrayList<>();
    for (Path p : roots) {
      r.add(p.toString());
    }
    flags.put(Setting.QUEUE_ROOT, r);
    flags.put(Setting.IMDS_ENDPOINT, List.of(sim.imdsEndpoint().toString()));
    flags.put(Setting.AUTOSCALING_ENDPOINT, List.of(sim.autoScalingEndpoint().toString()));
    flags.put(Setting.LOOPBACK_ONLY, List.of("true"));
    flags.put(Setting.QUIET_PERIOD, List.of("10s"));
    flags.put(Setting.IMDS_POLL_INTERVAL, List.of("1s"));
    flags.put(Setting.IMDS_STARTUP_TIMEOUT, List.of("0s"));
    try {
      controlDir = Files.createTempDirectory("drainguard-ctl-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    flags.put(Setting.CONTROL_SOCKET, List.of(socket().toString()));
  }

  /** The agent's control socket, in a directory of this harness's own. */
  Path socket() {
    return controlDir.resolve("control.sock");
  }

  ScaleInHarness set(Setting s, String value) {
    flags.put(s, List.of(value));
    return this;
  }

  AgentConfig config() {
    return new ConfigLoader(flags, Map.of(), Optional.empty()).loadWithoutFile();
  }

  Agent startAgent() {
    return startAgent(s -> {});
  }

  /** Starts the agent; {@code statuses} hears every status it reports. */
  Agent startAgent(java.util.function.Consumer<DrainStatus> statuses) {
    agent =
        Agent.start(
            config(),
            CredentialsProvider.fixed(AwsCredentials.of("test", "test", "fixed test keys")),
            clock,
            Sleeper.NONE,
            statuses,
            Optional.of(TICK),
            DIED);
    agents.add(agent);
    return agent;
  }

  DrainStatus status() {
    return agent.status();
  }

  /** The agent's probes, read as its decision thread is not: the watcher's view now. */
  ProbeSet probeSet() {
    try {
      java.lang.reflect.Field f = Agent.class.getDeclaredField("watcher");
      f.setAccessible(true);
      return (ProbeSet) f.get(agent);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("Agent has no ProbeSet field named watcher", e);
    }
  }

  /** Moves the clock by {@code d} in steps, each evaluated by the agent before the next. */
  void advance(Duration d) {
    advance(d, STEP);
  }

  /** As {@link #advance(Duration)}, with steps of at most {@code maxStep}. */
  void advance(Duration d, Duration maxStep) {
    Duration left = d;
    while (!left.isZero()) {
      Duration step = left.compareTo(maxStep) < 0 ? left : maxStep;
      clock.advance(step);
      left = left.minus(step);
      settle();
    }
  }

  /** Waits until the agent has evaluated the clock's current time. */
  void settle() {
    var now = clock.instant();
    // A bounded poll like Awaitility's, without its ~100 ms floor per call: a test moves the
    // clock hundreds of times.
    long giveUp = System.nanoTime() + SETTLE_LIMIT.toNanos();
    while (agent.status().evaluatedAt().isBefore(now) || !agent.settled()) {
      if (System.nanoTime() > giveUp) {
        throw new AssertionError(
            "the agent did not evaluate " + now + " within " + SETTLE_LIMIT + ": " + status());
      }
      LockSupport.parkNanos(SETTLE_POLL.toNanos());
    }
  }

  /** Waits (real time, bounded) until the agent's status satisfies {@code p}; the clock stands. */
  DrainStatus awaitStatus(Predicate<DrainStatus> p) {
    await().atMost(Duration.ofSeconds(10)).until(() -> p.test(agent.status()));
    return agent.status();
  }

  /** Starts the scale-in and moves time until the agent holds the action. */
  void scaleInUntilHolding() {
    sim.terminate(INSTANCE);
    advance(Duration.ofSeconds(1));
    awaitStatus(s -> s.phase() != Phase.IN_SERVICE);
  }

  List<ApiCall> calls(String action) {
    return sim.calls(action);
  }

  long accepted(String action) {
    return sim.calls(action).stream().filter(c -> c.httpStatus() == 200).count();
  }

  @Override
  public void close() {
    for (Agent a : agents) {
      try {
        a.close();
      } catch (RuntimeException e) {
        // already closed by the test
      }
    }
    sim.close();
    try (var files = Files.walk(controlDir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
