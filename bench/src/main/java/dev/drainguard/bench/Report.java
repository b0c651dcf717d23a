package dev.drainguard.bench;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Turns the measurements into the table's rows and the notes under it. {@code micro} and {@code
 * reaction} are null when only the footprint section ran ({@code --only footprint}).
 */
final class Report {

  /** Assumed, not published by AWS: sustained Auto Scaling requests per second per account. */
  static final double ASSUMED_RATE = 10.0;

  static final Duration DEFAULT_QUIET = Duration.ofSeconds(10);

  private final Footprint.Result fp;
  private final Micro.Results micro;
  private final Reaction.Result reaction;
  private final Packaged.LaunchOptions run;
  private final long seed;
  private final int lanes;

  Report(
      Footprint.Result fp,
      Micro.Results micro,
      Reaction.Result reaction,
      Packaged.LaunchOptions run,
      long seed,
      int lanes) {
    this.fp = fp;
    this.micro = micro;
    this.reaction = reaction;
    this.run = run;
    this.seed = seed;
    this.lanes = lanes;
  }

  Table table() {
    Table t = new Table();
    if (reaction != null) {
      reaction(t);
    }
    if (micro != null) {
      scan(t);
    }
    FootprintReport.rows(fp, t);
    fleet(t);
    return t;
  }

  private void reaction(Table t) {
    List<Reaction.Trial> trials = reaction.trials();
    int n = trials.size();
    Stats hb = Stats.of(ms(trials.stream().map(Reaction.Trial::noticeToHeartbeat).toList()));
    Stats done = Stats.of(ms(trials.stream().map(Reaction.Trial::drainToComplete).toList()));
    Stats up = Stats.of(ms(trials.stream().map(Reaction.Trial::startup).toList()));
    double hbTarget = Reaction.POLL.toMillis() + 100;
    double doneTarget = Reaction.QUIET.toMillis() + 200;
    t.add(
        "reaction",
        "IMDS reads Terminated → first accepted heartbeat (poll 1 s)",
        String.format(
            "p50 %.0f ms, p99 %.0f ms, max %.0f ms (%d trials)", hb.p50(), hb.p99(), hb.max(), n),
        String.format("p99 ≤ poll + 100 ms = %.0f ms", hbTarget),
        hb.p99() <= hbTarget);
    t.add(
        "reaction",
        "last queue file deleted → CompleteLifecycleAction received (quiet period 1 s)",
        String.format(
            "p50 %.0f ms, p99 %.0f ms, max %.0f ms (%d trials)",
            done.p50(), done.p99(), done.max(), n),
        String.format("p99 ≤ quiet + 200 ms = %.0f ms", doneTarget),
        done.p99() <= doneTarget);
    t.add(
        "reaction",
        "agent start-up, launcher to control socket answering (in the trials)",
        String.format("p50 %.0f ms, p99 %.0f ms", up.p50(), up.p99()));
    if (!reaction.failures().isEmpty()) {
      t.add("reaction", "failed trials", reaction.failures().size() + " (see below)", "0", false);
    }

    // the same drain timings, through the seeds' approach
    SeedsModel seeds =
        new SeedsModel(SeedsModel.CHECK_EVERY, Reaction.HEARTBEAT_TIMEOUT.multipliedBy(120));
    Random phases = new Random(seed);
    List<Double> seedWaste = new ArrayList<>();
    for (Reaction.Trial tr : trials) {
      double phase = phases.nextDouble() * SeedsModel.CHECK_EVERY.toSeconds();
      seedWaste.add(
          seeds.termination(tr.drainedAfter().toMillis() / 1000.0, phase).wastedSeconds());
    }
    Stats ours =
        Stats.of(
            ms(trials.stream().map(Reaction.Trial::drainToComplete).toList()).stream()
                .map(x -> x / 1000)
                .toList());
    double overhead = ours.mean() - Reaction.QUIET.toMillis() / 1000.0;
    Stats theirs = Stats.of(seedWaste);
    t.add(
        "waste",
        "instance time after the drain, per termination: drainguard, quiet 1 s (measured)",
        String.format("mean %.2f s, p99 %.2f s", ours.mean(), ours.p99()));
    t.add(
        "waste",
        "… drainguard with the default quiet period 10 s (measured overhead + 10 s)",
        String.format("mean %.2f s", DEFAULT_QUIET.toSeconds() + overhead));
    t.add(
        "waste",
        "… seeds' approach: a check every 60 s, complete only when no file (model, same drain timings)",
        String.format(
            "mean %.1f s, p50 %.1f s, p99 %.1f s", theirs.mean(), theirs.p50(), theirs.p99()));
    t.add(
        "waste",
        "… per 1,000 terminations: drainguard (quiet 10 s) vs seeds",
        String.format(
            "%.1f vs %.1f instance-hours",
            1000 * (DEFAULT_QUIET.toSeconds() + overhead) / 3600, 1000 * theirs.mean() / 3600));
  }

  private void scan(Table t) {
    Micro.Figure r = micro.reconcile();
    t.add(
        "scan",
        "full reconcile, 100,000 files in 1,000 queue dirs (JMH, single shot, warm cache)",
        String.format(
            "median %.0f ms; mean %.0f ± %.0f ms, min %.0f, max %.0f",
            r.median(), r.score(), r.error(), r.min(), r.max()),
        "≤ 1 s (median)",
        r.median() <= 1000);
    Micro.Figure w = micro.watcherEvents();
    Micro.Figure alone = micro.writerAlone();
    t.add(
        "scan",
        "watcher throughput: create + delete events absorbed (JMH, writer on the same machine)",
        String.format("%,.0f events/s (the writer alone: %,.0f ops/s)", w.score(), alone.score()));
    t.add(
        "scan",
        "Java heap per watched directory / per counted file",
        String.format(
            "%,d B / %,d B (100,000 files: %.1f MiB)",
            micro.memory().get("heapPerDirBytes"),
            micro.memory().get("heapPerFileBytes"),
            micro.memory().get("heapFor100kFilesBytes") / 1048576.0));
  }

  private void fleet(Table t) {
    double perHour = fp.inServiceCalls() * 3600.0 / fp.window().toSeconds();
    t.add(
        "fleet",
        "Auto Scaling calls per instance per hour, in service",
        String.format("%.0f (%d in %d s)", perHour, fp.inServiceCalls(), fp.window().toSeconds()),
        "0",
        fp.inServiceCalls() == 0);
    double awaitingPerHour =
        fp.awaitingCalls() * 3600.0 / Math.max(1, fp.awaitingFor().toSeconds());
    t.add(
        "fleet",
        "… while the action is not active yet (load balancer deregistering)",
        String.format(
            "%,.0f per hour (%d in %d s)",
            awaitingPerHour, fp.awaitingCalls(), fp.awaitingFor().toSeconds()));
    Stats gap = Stats.of(ms(fp.heartbeatGaps()).stream().map(x -> x / 1000).toList());
    double perTimeout = Footprint.HOLD_HEARTBEAT_TIMEOUT.toSeconds() / gap.p50();
    t.add(
        "fleet",
        "… while holding, HeartbeatTimeout 30 s (measured)",
        String.format(
            "every %.1f s: %.1f per HeartbeatTimeout, %.0f per hour",
            gap.p50(), perTimeout, 3600 / gap.p50()),
        "≤ 3 per HeartbeatTimeout",
        perTimeout <= 3.05);
    FleetModel d = FleetModel.defaults(ASSUMED_RATE);
    t.add(
        "fleet",
        "… while holding, AWS and agent defaults (HeartbeatTimeout 1 h, heartbeat-interval default; computed)",
        String.format(
            "every %d s: %.0f per HeartbeatTimeout, %.0f per hour",
            d.heartbeatEvery().toSeconds(),
            d.heartbeatsPerTimeout(),
            3600.0 / d.heartbeatEvery().toSeconds()),
        "≤ 3 per HeartbeatTimeout",
        d.heartbeatsPerTimeout() <= 3.0001);
    FleetModel.Awaiting a = d.awaiting();
    t.add(
        "fleet",
        "1,000 workers scale in 30 % at once (model; limit assumed "
            + (int) ASSUMED_RATE
            + " req/s)",
        String.format(
            "while deregistering (%d s): %.1f req/s once spread, %.0f req/s in the first minute;"
                + " holding: %.2f req/s; before: %.0f req/s (every 5 s); seeds: ≤ %.0f req/s",
            d.deregistration().toSeconds(),
            a.sustainedRate(),
            a.burstRate(),
            d.holdingRate(),
            d.fixedFiveSecondRate(),
            d.seedsPeakRate()),
        "under the (assumed) limit",
        d.sustainedPeakRate() <= ASSUMED_RATE ? "met" : "**over**");
    StringBuilder perAgent = new StringBuilder();
    for (long s : new long[] {60, 300, 3600}) {
      FleetModel.Awaiting m = d.withDeregistration(Duration.ofSeconds(s)).awaiting();
      perAgent
          .append(perAgent.length() == 0 ? "" : "; ")
          .append(
              String.format(
                  "%d s: %.0f (first heartbeat %.0f s after the action is active, at most %d s)",
                  s,
                  m.callsPerInstance(),
                  m.firstHeartbeatMean().toMillis() / 1000.0,
                  m.firstHeartbeatMax().toSeconds()));
    }
    t.add(
        "fleet",
        "… calls one agent makes while the load balancer deregisters (model, "
            + d.callsPerRound()
            + " per round)",
        perAgent.toString());
  }

  void notes(PrintStream out) {
    FleetModel d = FleetModel.defaults(ASSUMED_RATE);
    FleetModel noLb = d.withDeregistration(Duration.ZERO);
    FleetModel shortHook = d.withHeartbeatTimeout(Duration.ofSeconds(30));
    out.println("How each figure was taken:");
    out.println();
    if (reaction != null) {
      reactionNotes(out);
    }
    if (micro != null) {
      scanNotes(out);
    }
    footprintNotes(out);
    fleetNotes(out, d, noLb, shortHook);
    if (reaction != null && !reaction.failures().isEmpty()) {
      out.println();
      out.println("Failed trials:");
      reaction.failures().forEach(f -> out.println("- " + f));
    }
  }

  private void reactionNotes(PrintStream out) {
    out.printf(
        "- Reaction: %d trials, each a fresh `drainguard run` started by the packaged launcher against"
            + " the simulator on 127.0.0.1 (%d lanes, each with its own simulator, so that one"
            + " agent's start overlaps another's measurement), with `imds-poll-interval 1s` and"
            + " `quiet-period 1s` so that the trials fit the time; everything else at its default."
            + " Termination starts at a random moment within one poll after the agent is ready (no"
            + " deregistration delay); the queue file is deleted at a random moment within 200 ms"
            + " after the first accepted heartbeat. Times are the simulator's record of"
            + " each request. Trials took %d s.%n",
        reaction.trials().size(), lanes, reaction.wall().toSeconds());
    out.println(
        "- Waste: for each trial, the seeds' approach is run on paper with the trial's own drain"
            + " timing and a random phase of its 60 s check (seeded): the instance waits for the first"
            + " check after the drain; if the HeartbeatTimeout came first the hook would run out"
            + " instead (with data, if it had not drained). drainguard's own figure is measured; with"
            + " the default quiet period it is the measured time beyond the 1 s quiet period plus 10 s.");
  }

  private void scanNotes(PrintStream out) {
    out.println(
        "- Scan: JMH 1.37, one fork with the launcher's JVM options for `run` ("
            + String.join(" ", run.jvmOptions())
            + "). Reconcile: the real `RootTracker.reconcile` (cancel and re-register every inotify"
            + " watch, list every directory, stat every file) on a tree of 10 worker directories × 100"
            + " queue directories × 100 files of 100 bytes (1,011 directories watched), page cache warm;"
            + " 3 warm-up and 10 measured single shots, ± is JMH's 99.9 % interval; judged on the"
            + " median because other builds share the machine's 2 cores. Throughput: one thread"
            + " creates 5,000 empty files in 10 directories and waits until the real `QueueWatcher` has"
            + " published them all, then deletes them and waits for zero; 2 warm-up and 5 measured"
            + " iterations of 2 s. Heap: the heap in use after full collections, before and after a"
            + " watcher started on 1,011 empty directories, then on the 100,000-file tree, in a JVM of"
            + " its own; the kernel's ~1 KiB per inotify watch is not included.");
  }

  private void footprintNotes(PrintStream out) {
    out.printf(
        "- Footprint: an idle agent in service with every setting at its default (IMDS poll 5 s) and"
            + " no keys in its environment, so that it takes the instance profile's credentials"
            + " through IMDS (the simulator's) as on EC2, a JVM that only sleeps started with the same options and environment as the launcher gives"
            + " `run` (MALLOC_ARENA_MAX=%s), and the holding agent below, all started together; RSS is"
            + " VmRSS from /proc/PID/status at the end of the window (peak of 1 s samples in brackets);"
            + " CPU is the time on a CPU of every thread alive at both ends, from"
            + " /proc/PID/task/TID/schedstat (nanoseconds; utime + stime from /proc/PID/stat, 10 ms"
            + " ticks that also count ended threads, in brackets), over a %d s window that"
            + " starts %d s after the agents were ready, times 3600 / window, and over its steady"
            + " part, the last two thirds, when the poll's methods are compiled. A second bare JVM"
            + " runs with the launcher's options minus its wake-up options. The reaction trials (if"
            + " run) run during the window: they do not change the idle processes' own CPU time, only"
            + " add noise (load average %s). Decision-thread wake-ups: `decisionWakeups` of"
            + " `drainguard status --json` just before and just after the window, minus the end"
            + " request's own wake-up (a status request is answered on the decision thread), times"
            + " 3600 / the time between the two."
            + " `drainguard status`: the packaged launcher with its CDS archive, against the idle agent"
            + " after the trials, one unmeasured run first, then %d runs, each timed by bash's `time`"
            + " (wall time, and user + system CPU time of every thread), each followed by the bare"
            + " JVM printing one line (`IdleJvm once`, the launcher's JVM options for `status`, no"
            + " CDS archive of its own beyond the JDK's default one), timed the same way.%n",
        run.mallocArenaMax(),
        fp.agent().window().toSeconds(),
        Footprint.WARM_UP.toSeconds(),
        fp.loadAverages(),
        Footprint.STATUS_RUNS);
    out.println(
        "- Where the idle agent's CPU time went, by thread, over the whole window: "
            + byThread(fp.agent(), 8)
            + "; over its steady part: "
            + byThread(fp.steady().get(0), 8)
            + ". The bare JVM's, same options, whole window: "
            + byThread(fp.bareJvm(), 4)
            + "; with the JDK's own wake-ups: "
            + byThread(fp.bareJvmJdkWakeUps(), 4)
            + ".");
  }

  private static String byThread(Usage u, int most) {
    return u.byThread().entrySet().stream()
        .filter(e -> e.getValue() >= 0.0005)
        .sorted(java.util.Map.Entry.<String, Double>comparingByValue().reversed())
        .limit(most)
        .map(e -> String.format("%s %.3f s", e.getKey(), e.getValue()))
        .collect(java.util.stream.Collectors.joining(", "));
  }

  private void fleetNotes(PrintStream out, FleetModel d, FleetModel noLb, FleetModel shortHook) {
    out.printf(
        "- Fleet cost: the simulator's record of Auto Scaling requests. In service: the idle agent"
            + " over the window. Holding: an agent with data queued whose scale-in starts with a %d s"
            + " deregistration delay (HeartbeatTimeout 30 s, the shortest AWS allows): the calls"
            + " answered \"No active Lifecycle Action\" until the action is active, then the gap between"
            + " accepted heartbeats.%n",
        Footprint.DEREGISTRATION.toSeconds());
    FleetModel.Awaiting a = d.awaiting();
    FleetModel.Awaiting hour = d.withDeregistration(Duration.ofHours(1)).awaiting();
    out.printf(
        "- Paper model of a scale-in of %d of 1,000 workers at once (AWS defaults: deregistration"
            + " delay 300 s, HeartbeatTimeout 1 h; agent defaults; mean drain 15 min). **Assumption**:"
            + " Auto Scaling accepts about %.0f requests/s per account and region, shared by every"
            + " caller; AWS does not publish these limits, so the figure is a placeholder to compare"
            + " against. Each agent notices within one IMDS poll (%d s, its own phase) and asks at"
            + " once; while its action is not active it asks again after a pause drawn uniformly"
            + " from 0 to min(%d s × 2^(n−1), %d s, HeartbeatTimeout / 3) (full jitter), %d requests"
            + " a round (the heartbeat and the DescribeAutoScalingInstances that explains its"
            + " refusal). Every agent's pauses are drawn (seeded), not averaged. While the load"
            + " balancers deregister: %.1f req/s in the first minute (every agent's first, short"
            + " rounds; no schedule brings this under %.0f req/s, since each of the %d agents asks"
            + " at least once), %.1f req/s from then on (%.1f req/s over a 1 h delay, where the"
            + " pauses have reached their cap), %.1f calls per instance; with 1 request a round"
            + " (describe only while Terminating) half that. The earlier schedule (every 5 s) was"
            + " %.0f req/s for the whole delay. Holding: %.2f req/s. About %,d calls in all. The"
            + " first heartbeat follows the action becoming active by %.0f s on average, %d s at"
            + " most (one pause). Without a load balancer (no deregistration delay): %.2f req/s at"
            + " most. With HeartbeatTimeout 30 s: pauses of at most 10 s and %.0f req/s while"
            + " holding. The seeds' approach sends one CompleteLifecycleAction per termination (at"
            + " most %.0f req/s), but wastes the instance time above and loses the data of a drain"
            + " longer than the HeartbeatTimeout.%n",
        d.terminating(),
        ASSUMED_RATE,
        d.imdsPoll().toSeconds(),
        d.backoff().first().toSeconds(),
        d.backoff().cap().toSeconds(),
        d.callsPerRound(),
        a.burstRate(),
        ASSUMED_RATE,
        d.terminating(),
        a.sustainedRate(),
        hour.sustainedRate(),
        a.callsPerInstance(),
        d.fixedFiveSecondRate(),
        d.holdingRate(),
        d.callsPerScaleIn(),
        a.firstHeartbeatMean().toMillis() / 1000.0,
        a.firstHeartbeatMax().toSeconds(),
        noLb.sustainedPeakRate(),
        shortHook.holdingRate(),
        d.seedsPeakRate());
  }

  private static List<Double> ms(List<Duration> ds) {
    return ds.stream().map(x -> x.toNanos() / 1e6).toList();
  }
}
