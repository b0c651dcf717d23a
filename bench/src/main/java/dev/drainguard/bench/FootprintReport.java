package dev.drainguard.bench;

import java.time.Duration;
import java.util.List;

/**
 * The footprint rows (issue 15's figures): each agent figure beside the bare JVM of the same run
 * and their ratio, and the decision thread's wake-ups (issue 13: no fixed tick).
 */
final class FootprintReport {

  static final double RSS_TARGET_MIB = 48;
  static final double CPU_TARGET_S_PER_HOUR = 1.5;
  static final double CPU_TARGET_RATIO = 3;
  static final double STATUS_WALL_TARGET_MS = 150;
  static final double STATUS_CPU_TARGET_MS = 200;
  static final double STATUS_TARGET_RATIO = 3;
  static final long STARTUP_TARGET_MS = 1000;

  /** The default IMDS poll: one wake-up per poll is the decision thread's floor in service. */
  static final Duration IMDS_POLL = Duration.ofSeconds(5);

  private FootprintReport() {}

  static void rows(Footprint.Result fp, Table t) {
    Usage a = fp.agent();
    Usage b = fp.bareJvm();
    double rss = a.rssKib() / 1024.0;
    double bareRss = b.rssKib() / 1024.0;
    t.add(
        "footprint",
        "idle RSS, agent as packaged (in service, defaults) / bare JVM that sleeps, same launcher"
            + " options",
        String.format(
            "%.1f MiB (peak %.1f MiB) / %.1f MiB: %.1f× (agent − bare: %.1f MiB)",
            rss, a.peakRssKib() / 1024.0, bareRss, rss / bareRss, rss - bareRss),
        String.format("≤ %.0f MiB", RSS_TARGET_MIB),
        rss <= RSS_TARGET_MIB);
    cpuRow(
        t,
        String.format(
            "idle CPU, agent / bare JVM, same launcher options: whole window (%d s from %d s after"
                + " ready, first compilations included; extrapolated; threads' schedstat)",
            a.window().toSeconds(), Footprint.WARM_UP.toSeconds()),
        a,
        b);
    cpuRow(
        t,
        String.format(
            "idle CPU, agent / bare JVM, same launcher options: steady part (the window's last %d"
                + " s; what each further hour costs)",
            fp.steady().get(0).window().toSeconds()),
        fp.steady().get(0),
        fp.steady().get(1));
    Usage jdk = fp.bareJvmJdkWakeUps();
    t.add(
        "footprint",
        "idle CPU and RSS, bare JVM with the JDK's own wake-ups (the launcher's options without "
            + String.join(" ", Footprint.WAKE_UP_OPTIONS)
            + "), same window: what those options save",
        String.format(
            "whole window %.2f s/hour (%.3f s), steady part %.2f s/hour, %.1f MiB; the agent's CPU"
                + " is %s of it (steady part: %s)",
            jdk.cpuSecondsPerHour(),
            jdk.cpuSeconds(),
            fp.steady().get(2).cpuSecondsPerHour(),
            jdk.rssKib() / 1024.0,
            ratio(a.cpuSeconds(), jdk.cpuSeconds()),
            ratio(fp.steady().get(0).cpuSeconds(), fp.steady().get(2).cpuSeconds())));
    double perPoll = 3600.0 / IMDS_POLL.toSeconds();
    t.add(
        "footprint",
        "decision-thread wake-ups per hour in service, agent (defaults, IMDS poll "
            + IMDS_POLL.toSeconds()
            + " s)",
        String.format(
            "%.0f per hour (%d in %d s)",
            fp.wakeupsPerHour(), fp.decisionWakeups(), fp.wakeupsOver().toSeconds()),
        String.format("≤ %.0f per hour (one per IMDS poll)", perPoll),
        fp.wakeupsPerHour() <= perPoll);
    long up = fp.agentStartup().toMillis();
    long bareUp = fp.bareJvmStartup().toMillis();
    t.add(
        "footprint",
        "start-up to ready: agent (defaults, control socket answering) / bare JVM to its first line",
        String.format("%d ms / %d ms: %s", up, bareUp, ratio(up, bareUp)),
        "≤ " + STARTUP_TARGET_MS + " ms",
        up <= STARTUP_TARGET_MS);
    command(t, "`drainguard status`", "agent running", fp.statusTimes(), fp.bareStatusTimes());
    command(
        t, "`drainguard hold`", "holding agent, accepted", fp.holdTimes(), fp.bareStatusTimes());
    command(
        t,
        "`drainguard release`",
        "holding agent, refused (data queued)",
        fp.releaseTimes(),
        fp.bareStatusTimes());
  }

  private static void cpuRow(Table t, String what, Usage a, Usage b) {
    double cpu = a.cpuSecondsPerHour();
    t.add(
        "footprint",
        what,
        String.format(
            "%.2f s/hour (%.3f s; ticks %.2f s%s) / %.2f s/hour (%.3f s): %s",
            cpu,
            a.cpuSeconds(),
            a.tickCpuSeconds(),
            a.threadsEnded() == 0 ? "" : ", " + a.threadsEnded() + " threads ended",
            b.cpuSecondsPerHour(),
            b.cpuSeconds(),
            ratio(a.cpuSeconds(), b.cpuSeconds())),
        String.format("≤ %.1f s/hour and ≤ %.0f× bare", CPU_TARGET_S_PER_HOUR, CPU_TARGET_RATIO),
        cpu <= CPU_TARGET_S_PER_HOUR && a.cpuSeconds() <= CPU_TARGET_RATIO * b.cpuSeconds());
  }

  /** The wall-time and CPU rows of one control command beside the bare JVM printing one line. */
  private static void command(
      Table t,
      String name,
      String against,
      List<AgentProcess.Timed> times,
      List<AgentProcess.Timed> bare) {
    Stats wall = Stats.of(ms(times.stream().map(AgentProcess.Timed::wall).toList()));
    Stats cpuSt = Stats.of(ms(times.stream().map(AgentProcess.Timed::cpu).toList()));
    Stats bareWall = Stats.of(ms(bare.stream().map(AgentProcess.Timed::wall).toList()));
    Stats bareCpuSt = Stats.of(ms(bare.stream().map(AgentProcess.Timed::cpu).toList()));
    t.add(
        "footprint",
        name
            + " wall time, "
            + against
            + " / bare JVM printing one line, launcher's options for status ("
            + wall.n()
            + " runs each, alternating)",
        String.format(
            "p50 %.0f ms (min %.0f, max %.0f) / p50 %.0f ms: %s",
            wall.p50(), wall.min(), wall.max(), bareWall.p50(), ratio(wall.p50(), bareWall.p50())),
        String.format("p50 ≤ %.0f ms and ≤ %.0f× bare", STATUS_WALL_TARGET_MS, STATUS_TARGET_RATIO),
        wall.p50() <= STATUS_WALL_TARGET_MS && wall.p50() <= STATUS_TARGET_RATIO * bareWall.p50());
    t.add(
        "footprint",
        name + " CPU time (user + system), " + against + " / bare JVM printing one line",
        String.format(
            "p50 %.0f ms / p50 %.0f ms: %s",
            cpuSt.p50(), bareCpuSt.p50(), ratio(cpuSt.p50(), bareCpuSt.p50())),
        String.format("≤ %.0f ms and ≤ %.0f× bare", STATUS_CPU_TARGET_MS, STATUS_TARGET_RATIO),
        cpuSt.p50() <= STATUS_CPU_TARGET_MS
            && cpuSt.p50() <= STATUS_TARGET_RATIO * bareCpuSt.p50());
  }

  /** agent / bare, or "ratio unknown" when the baseline measured zero (10 ms resolution). */
  static String ratio(double agent, double bare) {
    return bare > 0 ? String.format("%.1f×", agent / bare) : "ratio unknown (bare JVM: 0)";
  }

  private static List<Double> ms(List<Duration> ds) {
    return ds.stream().map(x -> x.toNanos() / 1e6).toList();
  }
}
