package dev.drainguard.scenario;

import dev.drainguard.scenario.Event.ApiErrors;
import dev.drainguard.scenario.Event.DestinationDown;
import dev.drainguard.scenario.Event.Drain;
import dev.drainguard.scenario.Event.DrainAll;
import dev.drainguard.scenario.Event.ImdsDown;
import dev.drainguard.scenario.Event.ImdsErrors;
import dev.drainguard.scenario.Event.ImdsTokensRevoked;
import dev.drainguard.scenario.Event.Restart;
import dev.drainguard.scenario.Event.ScaleIn;
import dev.drainguard.scenario.Event.Write;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * Builds a scenario from a seed. Faults are drawn within what a correct agent must survive (an API
 * outage shorter than the heartbeat slack, an IMDS outage shorter than the heartbeat timeout), so
 * that every invariant is expected to hold; agent kills are drawn freely, and the invariants excuse
 * what a dead agent could not prevent.
 */
final class ScenarioGenerator {

  static final String HEARTBEAT = "RecordLifecycleActionHeartbeat";
  static final String COMPLETE = "CompleteLifecycleAction";
  static final String DESCRIBE_INSTANCES = "DescribeAutoScalingInstances";
  static final String TERMINATE = "TerminateInstanceInAutoScalingGroup";
  static final String DESCRIBE_HOOKS = "DescribeLifecycleHooks";

  /** How long the agent waits before asking again after a failed call (DrainController). */
  static final long CALL_RETRY_S = 5;

  private ScenarioGenerator() {}

  static Scenario generate(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    long ht = Math.round(Math.exp(Math.log(30) + r.nextDouble() * (Math.log(7200) - Math.log(30))));
    ht = Math.max(30, Math.min(7200, ht));
    long hbCfg = r.nextInt(10) < 7 ? 7200 : Math.max(1, ht / 6 + r.nextLong(ht - ht / 6 + 1));
    Duration every =
        Duration.ofSeconds(Math.min(hbCfg * 3, ht)).dividedBy(3); // min(cfg, HT/3), as a Duration
    long everyS = Math.max(1, every.toSeconds());
    int mode = r.nextInt(100);
    boolean global = mode >= 97;
    // The runner lands on every heartbeat the agent has due; between them, a failed call is retried
    // at the next step, so steps are short enough to leave room for retries. In the long holds up
    // to the global timeout (no API faults there) two intervals.
    long coarse =
        global ? 2 * everyS : Math.max(1, Math.min(1800, everyS <= 60 ? everyS / 4 : everyS / 2));
    long quiet = r.nextInt(4) == 0 ? 0 : 1 + r.nextInt(20);
    long poll = 1 + r.nextInt(5);
    long residual = r.nextInt(4) == 0 ? 1 + r.nextInt(4096) : 0;
    // Two roots in a quarter of the runs: the watcher polls a second root every 100 ms, which
    // makes each of its changes slow to see.
    int roots = r.nextInt(4) == 0 ? 2 : 1;
    String policy = new String[] {"expire", "complete", "retain"}[r.nextInt(3)];
    boolean retains = policy.equals("retain") ? r.nextInt(5) != 0 : r.nextInt(3) == 0;
    String defaultResult = r.nextInt(5) == 0 ? "CONTINUE" : "ABANDON";
    long globalTimeout = Math.min(48 * 3600, 100 * ht);
    long margin =
        switch (r.nextInt(5)) {
          case 0 -> 0;
          case 1, 2 -> r.nextInt(301);
          default -> 300;
        };
    long dereg = r.nextBoolean() ? 0 : 1 + r.nextInt((int) Math.min(300, 2 * ht));
    boolean protect = r.nextInt(5) == 0;

    List<Event> events = new ArrayList<>();
    Files files = new Files(r, roots, residual);
    long scaleIn = r.nextInt(4) == 0 ? 0 : r.nextLong(1, 4 * poll + 20);
    long actionStart = scaleIn + dereg;

    // Queued before the scale-in: usually something.
    int before = r.nextInt(5) == 0 ? 0 : 1 + r.nextInt(3);
    for (int i = 0; i < before; i++) {
      events.add(files.write(scaleIn == 0 ? 0 : r.nextLong(0, scaleIn + 1)));
    }
    events.add(new ScaleIn(scaleIn));

    Optional<Duration> maxHold;
    long finalDrain;
    long horizon;
    if (mode < 62) {
      // Drains before any deadline (sometimes before the action is even active).
      long hold = r.nextLong(0, 6 * everyS + 1);
      finalDrain = r.nextInt(6) == 0 ? scaleIn + r.nextLong(0, dereg + 1) : actionStart + hold;
      long needed = finalDrain - scaleIn + quiet + 60 + 8 * CALL_RETRY_S;
      maxHold =
          r.nextBoolean()
              ? Optional.empty()
              : Optional.of(Duration.ofSeconds(Math.max(60, needed + r.nextLong(0, everyS + 1))));
      horizon = finalDrain + quiet + 40;
    } else if (!global) {
      // Hits max-hold with data queued; drains later.
      long hold = 60 + r.nextLong(0, 4 * everyS + 1);
      maxHold = Optional.of(Duration.ofSeconds(Math.min(hold, 48 * 3600)));
      long deadline = scaleIn + poll + hold;
      finalDrain = deadline + r.nextLong(1, 3 * everyS + 2);
      horizon = Math.max(finalDrain + quiet + 40, deadline + ht + 2 * coarse + 10);
    } else {
      // Held up to the hook's global timeout.
      maxHold = Optional.empty();
      long deadline = scaleIn + globalTimeout - margin;
      finalDrain = deadline + r.nextLong(0, 3 * everyS + 1);
      horizon = Math.max(finalDrain + quiet + 40, actionStart + globalTimeout + coarse + 10);
    }

    // Traffic while terminating: more writes, some single drains.
    int during = r.nextInt(5);
    for (int i = 0; i < during; i++) {
      events.add(files.write(r.nextLong(scaleIn, Math.max(scaleIn + 1, finalDrain))));
    }
    int singles = r.nextInt(4);
    for (int i = 0; i < singles && files.any(); i++) {
      long at = r.nextLong(0, Math.max(1, finalDrain));
      files.drainOne(at).ifPresent(events::add);
    }
    if (r.nextInt(8) != 0) {
      events.add(new DrainAll(finalDrain));
    }
    if (r.nextInt(4) == 0) {
      long at = r.nextLong(0, Math.max(1, finalDrain + 1));
      events.add(new DestinationDown(at, Duration.ofSeconds(r.nextLong(1, 4 * everyS + 2))));
    }

    // The agent restarted or killed.
    int restarts = r.nextInt(3) == 0 ? 1 + r.nextInt(2) : 0;
    for (int i = 0; i < restarts; i++) {
      long at = r.nextLong(0, horizon);
      Duration down =
          r.nextInt(10) < 6 ? Duration.ZERO : Duration.ofSeconds(r.nextLong(1, 2 * ht + 1));
      events.add(new Restart(at, down));
    }

    // IMDS faults, bounded so that termination is still noticed well inside the heartbeat timeout.
    long noticeSlack = Math.max(0, ht - CALL_RETRY_S - 2 * coarse - poll - 5);
    int imdsFaults = r.nextInt(3) == 0 ? 1 + r.nextInt(2) : 0;
    for (int i = 0; i < imdsFaults; i++) {
      long at = r.nextLong(0, horizon);
      switch (r.nextInt(3)) {
        case 0 -> {
          int max = (int) Math.min(20, Math.max(0, 2 * (noticeSlack / poll) - 2));
          if (max > 0) {
            events.add(new ImdsErrors(at, 1 + r.nextInt(max), r.nextBoolean() ? 500 : 503));
          }
        }
        case 1 -> events.add(new ImdsTokensRevoked(at));
        default -> {
          if (noticeSlack > 1 && events.stream().noneMatch(e -> e instanceof ImdsDown)) {
            events.add(new ImdsDown(at, Duration.ofSeconds(r.nextLong(1, noticeSlack))));
          }
        }
      }
    }

    // Auto Scaling faults, at most one burst per action, short enough to heartbeat through.
    long failedCallsAllowed =
        global ? 0 : Math.max(0, (ht - everyS - coarse - 1) / (CALL_RETRY_S + coarse) - 1);
    int apiFaults = r.nextInt(3) == 0 ? 1 + r.nextInt(2) : 0;
    List<String> used = new ArrayList<>();
    for (int i = 0; i < apiFaults; i++) {
      int pick = r.nextInt(100);
      String action =
          pick < 55
              ? HEARTBEAT
              : pick < 80
                  ? COMPLETE
                  : pick < 90 ? DESCRIBE_INSTANCES : pick < 95 ? TERMINATE : DESCRIBE_HOOKS;
      if (used.contains(action)) {
        continue;
      }
      used.add(action);
      // The adapter makes 3 attempts per call: 3 errors make one failed call.
      int count = (int) (3 * failedCallsAllowed + 2);
      count = 1 + r.nextInt(Math.max(1, count));
      int kind = r.nextInt(3);
      int status = kind == 0 ? 400 : kind == 1 ? 500 : 503;
      String code = kind == 0 ? "Throttling" : kind == 1 ? "InternalFailure" : "ServiceUnavailable";
      events.add(new ApiErrors(r.nextLong(0, horizon), action, count, status, code));
    }

    events.sort(Comparator.comparingLong(Event::at));
    Scenario.Params params =
        new Scenario.Params(
            Duration.ofSeconds(ht),
            Duration.ofSeconds(hbCfg),
            Duration.ofSeconds(quiet),
            Duration.ofSeconds(poll),
            residual,
            roots,
            policy,
            retains,
            defaultResult,
            Duration.ofSeconds(margin),
            maxHold,
            Duration.ofSeconds(dereg),
            protect,
            Duration.ofSeconds(coarse),
            Duration.ofSeconds(horizon));
    return new Scenario(seed, params, events);
  }

  /** The files the writer has queued so far, so drains name real files. */
  private static final class Files {
    private final SplittableRandom r;
    private final int roots;
    private final long residual;
    private final List<Write> written = new ArrayList<>();
    private int next;

    Files(SplittableRandom r, int roots, long residual) {
      this.r = r;
      this.roots = roots;
      this.residual = residual;
    }

    Write write(long at) {
      int root = r.nextInt(roots);
      String name =
          (r.nextInt(3)) + "/out-" + r.nextInt(3) + "/" + String.format("%05d.pq", ++next);
      int bytes;
      if (residual > 0 && r.nextInt(3) == 0) {
        // Right at the residual allowance, or one byte over it.
        bytes = (int) residual + (r.nextBoolean() ? 0 : 1);
      } else {
        bytes = r.nextInt(4) == 0 ? 1 + r.nextInt(16) : 1 + r.nextInt(65536);
      }
      Write w = new Write(at, root, name, bytes);
      written.add(w);
      return w;
    }

    boolean any() {
      return !written.isEmpty();
    }

    Optional<Drain> drainOne(long at) {
      Write w = written.get(r.nextInt(written.size()));
      return Optional.of(new Drain(Math.max(at, w.at()), w.root(), w.name()));
    }
  }
}
