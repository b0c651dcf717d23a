package dev.drainguard.status;

import dev.drainguard.drain.DrainStatus;
import dev.drainguard.drain.Phase;
import dev.drainguard.imds.SpotNotice;
import dev.drainguard.queue.ProbeReading;
import dev.drainguard.queue.RootStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The agent's status as the control socket reports it: plain values (ISO-8601 instants, seconds) so
 * that {@code drainguard status --json} is easy to use from scripts.
 */
public record StatusView(
    String version,
    long pid,
    String startedAt,
    long uptimeSeconds,
    String evaluatedAt,
    String phase,
    String targetLifecycleState,
    String group,
    String hook,
    String instance,
    long hookHeartbeatTimeoutSeconds,
    long hookGlobalTimeoutSeconds,
    String hookDefaultResult,
    String hookReadAt,
    String hookProblem,
    String deadlinePolicy,
    int heartbeats,
    String lastHeartbeat,
    String nextHeartbeat,
    String noticedAt,
    String actionActiveSince,
    Long heldSeconds,
    String deadline,
    Long deadlineInSeconds,
    String holdReason,
    String holdSince,
    boolean releaseRequested,
    String lastError,
    String result,
    String endReason,
    String endedAt,
    Long bytesAtEnd,
    String retainedSince,
    boolean scaleInProtected,
    String protectionChangedAt,
    String spotInterruptionAction,
    String spotInterruptionTime,
    String rebalanceRecommendedAt,
    List<String> eventCommands,
    Queues queues,
    long decisionWakeups,
    List<String> criblBuffers) {

  /**
   * The same view with Cribl's local buffers as {@code queue-root auto} found them, each with the
   * root covering it; null (absent in JSON) without {@code auto}.
   */
  public StatusView withCriblBuffers(List<String> buffers) {
    if (buffers.isEmpty()) {
      return this;
    }
    return new StatusView(
        version,
        pid,
        startedAt,
        uptimeSeconds,
        evaluatedAt,
        phase,
        targetLifecycleState,
        group,
        hook,
        instance,
        hookHeartbeatTimeoutSeconds,
        hookGlobalTimeoutSeconds,
        hookDefaultResult,
        hookReadAt,
        hookProblem,
        deadlinePolicy,
        heartbeats,
        lastHeartbeat,
        nextHeartbeat,
        noticedAt,
        actionActiveSince,
        heldSeconds,
        deadline,
        deadlineInSeconds,
        holdReason,
        holdSince,
        releaseRequested,
        lastError,
        result,
        endReason,
        endedAt,
        bytesAtEnd,
        retainedSince,
        scaleInProtected,
        protectionChangedAt,
        spotInterruptionAction,
        spotInterruptionTime,
        rebalanceRecommendedAt,
        eventCommands,
        queues,
        decisionWakeups,
        List.copyOf(buffers));
  }

  /**
   * Every queue root and probe, and the judgement over all of them.
   *
   * @param drainRateBytesPerSecond the deciding probes' drain rate (negative: growing); null when
   *     unknown
   * @param emptyInSeconds the time to empty at that rate; null when unknown or not draining
   * @param forecastBytesAtRisk bytes still queued at the deadline at that rate; null without one
   * @param forecast the same in words: {@code draining 45.2 MiB/s, empty in ~2m 10s}
   * @param atRisk the forecast says data will be left at the deadline
   * @param stalled no progress for stall-after while data is queued
   */
  public record Queues(
      boolean empty,
      long totalBytes,
      long totalFiles,
      String emptySince,
      List<Root> roots,
      List<Probe> probes,
      Double drainRateBytesPerSecond,
      Double emptyInSeconds,
      Long forecastBytesAtRisk,
      String forecast,
      boolean atRisk,
      boolean stalled) {}

  /**
   * One probe's latest reading.
   *
   * @param deciding whether --drained-when counts it
   * @param unknown why it cannot tell; absent when it can
   */
  public record Probe(
      String name,
      boolean deciding,
      boolean empty,
      long bytes,
      String unknown,
      String readAt,
      List<Queue> queues) {}

  /** One queue a probe named. */
  public record Queue(String name, long bytes) {}

  /**
   * One queue root; {@code polled} says why it is walked periodically instead of watched (absent
   * while it is watched).
   */
  public record Root(
      String path, long files, long bytes, Long oldestAgeSeconds, String error, String polled) {}

  /** Builds the view of {@code s} as of {@code now}. */
  public static StatusView of(
      DrainStatus s, String version, long pid, Instant startedAt, Instant now) {
    return of(s, version, pid, startedAt, now, 0);
  }

  /**
   * As above, with how many times the decision thread has woken up since start (events and due
   * instants; there is no fixed tick): an idle agent wakes once per IMDS poll.
   */
  public static StatusView of(
      DrainStatus s, String version, long pid, Instant startedAt, Instant now, long wakeups) {
    boolean held = s.phase() == Phase.HOLDING || s.phase() == Phase.DRAINED;
    Long heldSeconds =
        s.actionActiveSince()
            .map(a -> seconds(a, held ? now : s.endedAt().orElse(now)))
            .orElse(null);
    return new StatusView(
        version,
        pid,
        startedAt.toString(),
        seconds(startedAt, now),
        s.evaluatedAt().toString(),
        s.phase().name(),
        s.targetState().name(),
        s.ref().groupName(),
        s.ref().hookName(),
        s.ref().instanceId(),
        s.hook().heartbeatTimeout().toSeconds(),
        s.hook().globalTimeout().toSeconds(),
        s.hook().defaultResult().name(),
        s.hookReadAt().toString(),
        s.hook().name().isEmpty()
            ? "no termination hook on group " + s.ref().groupName() + ": scale-in will not be held"
            : null,
        s.policy().name().toLowerCase(java.util.Locale.ROOT),
        s.heartbeats(),
        text(s.lastHeartbeat().orElse(null)),
        text(s.nextHeartbeat().orElse(null)),
        text(s.noticedAt().orElse(null)),
        text(s.actionActiveSince().orElse(null)),
        heldSeconds,
        text(s.deadline().orElse(null)),
        s.phase().terminal() ? null : s.deadline().map(d -> seconds(now, d)).orElse(null),
        s.holdReason().orElse(null),
        text(s.holdSince().orElse(null)),
        s.releaseRequested(),
        s.lastError().orElse(null),
        s.result().map(Enum::name).orElse(null),
        s.endReason().orElse(null),
        text(s.endedAt().orElse(null)),
        s.phase().terminal() ? s.bytesAtEnd() : null,
        text(s.retainedSince().orElse(null)),
        s.scaleInProtected(),
        text(s.protectionChangedAt().orElse(null)),
        s.spotInterruption().map(SpotNotice::action).orElse(null),
        text(s.spotInterruption().map(SpotNotice::time).orElse(null)),
        text(s.rebalanceRecommendedAt().orElse(null)),
        s.eventCommands().isEmpty() ? null : s.eventCommands(),
        new Queues(
            s.queues().empty(),
            s.queues().totalBytes(),
            s.queues().totalFiles(),
            text(s.emptySince().orElse(null)),
            s.queues().roots().stream().map(StatusView::root).toList(),
            s.queues().probes().stream().map(StatusView::probe).toList(),
            boxed(s.forecast().drainRateBytesPerSecond()),
            boxed(s.forecast().emptyInSeconds()),
            s.forecast().bytesAtRisk().isPresent() ? s.forecast().bytesAtRisk().getAsLong() : null,
            s.forecast().describe(),
            s.forecast().atRisk(),
            s.forecast().stalled()),
        wakeups,
        null);
  }

  private static Double boxed(java.util.OptionalDouble d) {
    return d.isPresent() ? d.getAsDouble() : null;
  }

  /** One line of JSON, absent values left out: what {@code drainguard status --json} prints. */
  public String toJson() {
    return ControlJson.write(this);
  }

  private static Root root(RootStatus r) {
    return new Root(
        r.root().toString(),
        r.files(),
        r.bytes(),
        r.oldestAge().map(Duration::toSeconds).orElse(null),
        r.error().orElse(null),
        r.polled().orElse(null));
  }

  private static Probe probe(ProbeReading p) {
    return new Probe(
        p.probe(),
        p.deciding(),
        p.empty(),
        p.bytes(),
        p.unknown().orElse(null),
        p.readAt().toString(),
        p.queues().stream().map(q -> new Queue(q.name(), q.bytes())).toList());
  }

  private static long seconds(Instant from, Instant to) {
    return Duration.between(from, to).toSeconds();
  }

  private static String text(Instant i) {
    return i == null ? null : i.toString();
  }
}
