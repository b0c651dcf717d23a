package dev.drainguard.scenario.core;

import dev.drainguard.drain.DeadlinePolicy;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.queue.DrainedWhen;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * One scenario for the decision core, fully determined by its seed: the world's and the agent's
 * settings ({@link Params}) and a schedule of {@link Change}s at millisecond offsets from the
 * start. A shrunk plan keeps the settings and drops changes.
 */
record Plan(long seed, Params params, List<Change> changes) {

  Plan {
    changes = List.copyOf(changes);
  }

  Plan withChanges(List<Change> fewer) {
    return new Plan(seed, params, fewer);
  }

  /**
   * @param maxLatency every Auto Scaling call takes from 0 to this long (at most 15 s)
   * @param beforeComplete how long the before-complete command runs, if there is one
   * @param beforeCompleteExit 0, 1 (fails) or -1 (killed at the command timeout)
   * @param beforeCompleteWrites bytes the command writes into every queue just before it ends
   * @param horizon when the scenario ends; its last {@link #tail} is calm (no faults, no changes)
   */
  record Params(
      Duration heartbeatTimeout,
      LifecycleResult defaultResult,
      Duration heartbeatInterval,
      Duration quietPeriod,
      Duration imdsPoll,
      boolean commandProbe,
      boolean criblProbe,
      Duration probeInterval,
      Duration probeTimeout,
      DrainedWhen drainedWhen,
      long residualBytes,
      Duration reconcile,
      DeadlinePolicy policy,
      boolean groupRetains,
      Duration deadlineMargin,
      Optional<Duration> maxHold,
      Duration actionGrace,
      Duration deregistration,
      Duration blipAfter,
      Duration blipLength,
      Duration maxLatency,
      Optional<Duration> beforeComplete,
      int beforeCompleteExit,
      long beforeCompleteWrites,
      boolean onTermination,
      Duration commandTimeout,
      boolean protectWhileBusy,
      long protectThreshold,
      Duration protectAfter,
      Duration protectInterval,
      Duration tail,
      Duration horizon) {

    /** min(heartbeat-interval, HT / 3), for a hook with {@code ht}. */
    Duration every(Duration ht) {
      Duration third = ht.dividedBy(3);
      return heartbeatInterval.compareTo(third) < 0 ? heartbeatInterval : third;
    }

    /** The enabled probes, files first. */
    List<String> sources() {
      List<String> s = new java.util.ArrayList<>(List.of(Queues.FILES));
      if (commandProbe) {
        s.add(Queues.COMMAND);
      }
      if (criblProbe) {
        s.add(Queues.CRIBL);
      }
      return List.copyOf(s);
    }

    @Override
    public String toString() {
      return String.format(
          "HT=%ss default=%s heartbeat-interval=%ss quiet=%sms poll=%ss probes=%s interval=%sms"
              + " timeout=%sms drained-when=%s residual=%d reconcile=%ss policy=%s retains=%s"
              + " margin=%ss max-hold=%s grace=%ss dereg=%ss blip=%sms+%sms latency<=%sms"
              + " before-complete=%s exit=%d writes=%d on-termination=%s protect=%s(%d,%ss,%ss)"
              + " tail=%ss horizon=%ss",
          heartbeatTimeout.toSeconds(),
          defaultResult,
          heartbeatInterval.toSeconds(),
          quietPeriod.toMillis(),
          imdsPoll.toSeconds(),
          sources(),
          probeInterval.toMillis(),
          probeTimeout.toMillis(),
          drainedWhen,
          residualBytes,
          reconcile.toSeconds(),
          policy,
          groupRetains,
          deadlineMargin.toSeconds(),
          maxHold.map(m -> m.toSeconds() + "s").orElse("none"),
          actionGrace.toSeconds(),
          deregistration.toSeconds(),
          blipAfter.toMillis(),
          blipLength.toMillis(),
          maxLatency.toMillis(),
          beforeComplete.map(d -> d.toMillis() + "ms").orElse("none"),
          beforeCompleteExit,
          beforeCompleteWrites,
          onTermination,
          protectWhileBusy,
          protectThreshold,
          protectAfter.toSeconds(),
          protectInterval.toSeconds(),
          tail.toSeconds(),
          horizon.toSeconds());
    }
  }

  /** The faults that hold for a while ({@link Change.Window}). */
  enum Fault {
    /** Every Auto Scaling call that reaches AWS in the window fails (5xx, network). */
    API_DOWN,
    /** Heartbeats fail (throttled). */
    HEARTBEAT_FAILS,
    /** CONTINUE, ABANDON and TERMINATE fail. */
    COMPLETE_FAILS,
    /** DescribeAutoScalingInstances and DescribeLifecycleHooks are throttled. */
    DESCRIBE_THROTTLED,
    /** Calls take effect, but their answers are lost: the caller is told they failed. */
    ANSWERS_LOST,
    /** IMDS cannot be read. */
    IMDS_DOWN,
    /** The watcher's snapshots arrive late, up to {@code maxDelay}, so also out of order. */
    SNAPSHOTS_LATE,
    /** A full rescan takes up to {@code maxDelay}. */
    RESCAN_SLOW,
    /** The named probe's reads never answer. */
    PROBE_STALLS,
    /** The named probe answers garbage: unknown. */
    PROBE_GARBAGE,
    /** The named probe answers late, up to {@code maxDelay} after its read started. */
    PROBE_LATE
  }

  /** A change of the world, at {@link #at()} milliseconds after the start. */
  sealed interface Change {

    long at();

    /**
     * A writer queues {@code bytes}: in the files root (life {@code filesLife} ms, -1 for not
     * there), and as the command and Cribl probes count it. Life {@link Long#MAX_VALUE}: never
     * drains. {@code hidden}: written through a hard link's other name, so the watcher misses it
     * until a full rescan.
     */
    record Write(
        long at,
        int id,
        long bytes,
        long filesLife,
        long commandLife,
        long criblLife,
        boolean hidden)
        implements Change {
      @Override
      public String toString() {
        return String.format(
            "+%dms write #%d %d B files=%s command=%s cribl=%s%s",
            at,
            id,
            bytes,
            life(filesLife),
            life(commandLife),
            life(criblLife),
            hidden ? " (through a hard link's other name: missed by the watcher)" : "");
      }

      private static String life(long ms) {
        return ms < 0 ? "-" : ms == Long.MAX_VALUE ? "stuck" : ms + "ms";
      }
    }

    /** A directory moved across watched directories: the watcher counts {@code bytes} twice. */
    record Phantom(long at, long bytes) implements Change {
      @Override
      public String toString() {
        return String.format("+%dms cross-directory rename: %d B counted twice", at, bytes);
      }
    }

    /**
     * Auto Scaling starts terminating the instance: a scale-in (which protection prevents) or a
     * replacement (health check, refresh: protection does not apply).
     */
    record ScaleIn(long at, boolean replacement) implements Change {
      @Override
      public String toString() {
        return String.format("+%dms %s", at, replacement ? "replacement" : "scale-in");
      }
    }

    /** PutLifecycleHook: the hook's HeartbeatTimeout and DefaultResult change. */
    record PutHook(long at, long heartbeatTimeoutSeconds, String defaultResult) implements Change {
      @Override
      public String toString() {
        return String.format(
            "+%dms PutLifecycleHook HeartbeatTimeout=%ds DefaultResult=%s",
            at, heartbeatTimeoutSeconds, defaultResult);
      }
    }

    record Hold(long at) implements Change {
      @Override
      public String toString() {
        return String.format("+%dms operator hold", at);
      }
    }

    record Release(long at, boolean force) implements Change {
      @Override
      public String toString() {
        return String.format("+%dms operator release%s", at, force ? " --force" : "");
      }
    }

    record Spot(long at) implements Change {
      @Override
      public String toString() {
        return String.format("+%dms spot interruption notice", at);
      }
    }

    record Rebalance(long at) implements Change {
      @Override
      public String toString() {
        return String.format("+%dms spot rebalance recommendation", at);
      }
    }

    /** The agent stops (sends nothing) and a new one starts {@code down} ms later. */
    record Restart(long at, long down) implements Change {
      @Override
      public String toString() {
        return String.format("+%dms agent restart (down %dms)", at, down);
      }
    }

    /** A fault in force from {@code at} for {@code length} ms. */
    record Window(long at, long length, Fault fault, String probe, long maxDelay)
        implements Change {
      long end() {
        return at + length;
      }

      boolean covers(long t) {
        return t >= at && t < at + length;
      }

      @Override
      public String toString() {
        return String.format(
            "+%dms %s for %dms%s%s",
            at,
            fault,
            length,
            probe == null ? "" : " probe=" + probe,
            maxDelay > 0 ? " up to " + maxDelay + "ms late" : "");
      }
    }
  }

  /** The schedule, one change per line, for a failure report. */
  String describe() {
    return "seed="
        + seed
        + "\n  "
        + params
        + "\n"
        + changes.stream().map(e -> "  " + e).collect(Collectors.joining("\n"));
  }
}
