package dev.drainguard.bench;

import dev.drainguard.sim.ApiCall;
import dev.drainguard.sim.Simulator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;

/**
 * Reaction trials, end to end: the packaged agent ({@code drainguard run}, a process of its own)
 * against the simulator on 127.0.0.1. Each trial is a fresh agent on a fresh instance (a drain ends
 * in a terminal phase): start, wait until its control socket answers, then at a random moment
 * within one poll interval flip IMDS to {@code Terminated} (the scale-in starts, no deregistration
 * delay) and time the first accepted heartbeat; at a random moment within one tick after that,
 * delete the last queue file and time the CompleteLifecycleAction the simulator receives. Both
 * instants are the simulator's record of the request, on the same clock as the bench's.
 *
 * <p>Trials run in {@code lanes} lanes at once, each with a simulator of its own (IMDS speaks for
 * one instance), so that one agent's start overlaps another's measurement: that is what fits 100
 * trials in the time budget, and its interference is in the figures.
 */
final class Reaction {

  static final String GROUP = "workers";
  static final String HOOK = "hold-queues";
  static final String HEARTBEAT = "RecordLifecycleActionHeartbeat";
  static final String COMPLETE = "CompleteLifecycleAction";

  /** The shortest poll the agent accepts: it bounds the trial time. */
  static final Duration POLL = Duration.ofSeconds(1);

  /** Short, so that 100 trials fit; the reaction target is stated relative to it. */
  static final Duration QUIET = Duration.ofSeconds(1);

  /**
   * The drain loop's tick ({@code DrainLoop.TICK}): the file is deleted at a random phase of it.
   */
  static final Duration TICK = Duration.ofMillis(200);

  /** AWS's shortest: heartbeats every 10 s, so a trial sees only the first. */
  static final Duration HEARTBEAT_TIMEOUT = Duration.ofSeconds(30);

  /** A trial's step that takes longer than this has failed. */
  static final Duration STEP_LIMIT = Duration.ofSeconds(30);

  /**
   * One trial.
   *
   * @param startup launcher start to the control socket answering
   * @param noticeToHeartbeat IMDS reading Terminated to the first accepted heartbeat
   * @param drainToComplete last queue file deleted to CompleteLifecycleAction received
   * @param drainedAfter termination start to the last queue file deleted (the drain timing)
   */
  record Trial(
      Duration startup,
      Duration noticeToHeartbeat,
      Duration drainToComplete,
      Duration drainedAfter) {}

  /** The trials that completed, and the failures (each with the agent's log file). */
  record Result(List<Trial> trials, List<String> failures, Duration wall) {}

  private final Packaged pkg;
  private final Path work;

  Reaction(Packaged pkg, Path work) {
    this.pkg = pkg;
    this.work = work;
  }

  Result run(int trials, int lanes, long seed) throws InterruptedException, IOException {
    Packaged.deleteTree(work.resolve("reaction")); // an earlier run's logs and sockets
    List<Trial> done = Collections.synchronizedList(new ArrayList<>());
    List<String> failures = Collections.synchronizedList(new ArrayList<>());
    long t0 = System.nanoTime();
    ExecutorService pool = Executors.newFixedThreadPool(lanes);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int lane = 0; lane < lanes; lane++) {
        int l = lane;
        int count = trials / lanes + (lane < trials % lanes ? 1 : 0);
        futures.add(
            pool.submit(
                () -> {
                  // stagger the lanes by about one agent start-up
                  pause(Duration.ofMillis(1500L * l));
                  runLane(l, count, new Random(seed + l), done, failures);
                  return null;
                }));
      }
      for (Future<?> f : futures) {
        try {
          f.get();
        } catch (java.util.concurrent.ExecutionException e) {
          failures.add("lane failed: " + e.getCause());
        }
      }
    } finally {
      pool.shutdownNow();
      pool.awaitTermination(30, TimeUnit.SECONDS);
    }
    return new Result(
        List.copyOf(done), List.copyOf(failures), Duration.ofNanos(System.nanoTime() - t0));
  }

  private void runLane(int lane, int count, Random random, List<Trial> done, List<String> failures)
      throws IOException {
    try (Simulator sim = Simulator.start(Clock.systemUTC())) {
      sim.addGroup(GROUP);
      sim.addTerminationHook(GROUP, HOOK, HEARTBEAT_TIMEOUT, "ABANDON");
      for (int n = 0; n < count; n++) {
        String instance = String.format("i-%017x", ((long) lane << 32) | n);
        Path dir = Files.createDirectories(work.resolve("reaction/l" + lane + "/t" + n));
        try {
          done.add(trial(sim, instance, dir, random));
        } catch (RuntimeException | IOException e) {
          failures.add(
              instance + ": " + e.getMessage() + " (log " + dir.resolve("agent.log") + ")");
        }
      }
    }
  }

  private Trial trial(Simulator sim, String instance, Path dir, Random random) throws IOException {
    sim.addInstance(GROUP, instance, "us-east-1", true);
    sim.setImdsInstance(instance);
    Path root = dir.resolve("queues");
    Path file = Files.createDirectories(root.resolve("0/out-s3")).resolve("00000001.pq");
    Files.write(file, new byte[4096]);
    Map<String, String> env =
        AgentProcess.env(
            sim,
            dir,
            root,
            Map.of(
                "IMDS_POLL_INTERVAL",
                POLL.toSeconds() + "s",
                "QUIET_PERIOD",
                QUIET.toSeconds() + "s"));
    AgentProcess agent = AgentProcess.start(pkg, env, dir);
    try {
      Duration startup = agent.awaitReady();
      pause(Duration.ofMillis(random.nextInt((int) POLL.toMillis())));
      Instant terminated = Instant.now();
      sim.terminate(instance);
      ApiCall heartbeat = await(sim, instance, HEARTBEAT, ApiCall::succeeded, agent);
      pause(Duration.ofMillis(random.nextInt((int) TICK.toMillis())));
      Instant drained = Instant.now();
      Files.delete(file);
      ApiCall complete = await(sim, instance, COMPLETE, c -> true, agent);
      if (!complete.succeeded()
          || !"CONTINUE".equals(complete.params().get("LifecycleActionResult"))) {
        throw new IllegalStateException("unexpected completion " + complete);
      }
      return new Trial(
          startup,
          Duration.between(terminated, heartbeat.at()),
          Duration.between(drained, complete.at()),
          Duration.between(terminated, drained));
    } finally {
      agent.kill(); // its drain has ended (or the trial failed): nothing left to send
    }
  }

  private static ApiCall await(
      Simulator sim, String instance, String action, Predicate<ApiCall> which, AgentProcess agent) {
    long giveUp = System.nanoTime() + STEP_LIMIT.toNanos();
    while (true) {
      Optional<ApiCall> call =
          sim.calls(action).stream()
              .filter(c -> instance.equals(c.params().get("InstanceId")))
              .filter(which)
              .findFirst();
      if (call.isPresent()) {
        return call.get();
      }
      if (!agent.alive() || System.nanoTime() - giveUp > 0) {
        throw new IllegalStateException(
            "no "
                + action
                + " for "
                + instance
                + " within "
                + STEP_LIMIT
                + " (alive="
                + agent.alive()
                + ")");
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
  }

  static void pause(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
