package dev.drainguard.scenario.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.drain.DeadlinePolicy;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.queue.DrainedWhen;
import dev.drainguard.scenario.core.Timeline.Delivery;
import dev.drainguard.scenario.core.Timeline.Kind;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Invariant (a) on timelines written by hand: it must flag a release the truth forbids and excuse
 * exactly what no agent could know. Guards against an invariant that has become vacuous.
 */
class ReleaseCheckTest {

  /** Files only, quiet period 10 s, no residual allowance. */
  static Plan.Params params(DrainedWhen rule, boolean cribl) {
    return new Plan.Params(
        Duration.ofSeconds(600),
        LifecycleResult.ABANDON,
        Duration.ofSeconds(7200),
        Duration.ofSeconds(10),
        Duration.ofSeconds(5),
        false,
        cribl,
        Duration.ofSeconds(5),
        Duration.ofSeconds(5),
        rule,
        0,
        Duration.ofSeconds(60),
        DeadlinePolicy.EXPIRE,
        false,
        Duration.ofSeconds(300),
        Optional.empty(),
        Duration.ofMinutes(15),
        Duration.ZERO,
        Duration.ZERO,
        Duration.ZERO,
        Duration.ofMillis(200),
        Optional.empty(),
        0,
        0,
        false,
        Duration.ofSeconds(30),
        false,
        0,
        Duration.ZERO,
        Duration.ofSeconds(10),
        Duration.ofSeconds(60),
        Duration.ofSeconds(600));
  }

  private final Timeline t = new Timeline();

  ReleaseCheckTest() {
    t.queues = new Queues(0);
    t.incarnations.add(new Timeline.Incarnation(0, 0, Long.MAX_VALUE));
  }

  private void parcel(int id, String source, long start, long end, boolean hidden) {
    t.queues.add(new Queues.Parcel(id, source, 4096, start, end, hidden, false));
  }

  private void read(String source, Kind kind, long taken, long delivered, int... shown) {
    t.deliveries.add(
        new Delivery(0, source, kind, taken, delivered, true, shown.length == 0, shown));
  }

  private ReleaseCheck check() {
    return new ReleaseCheck(t, params(DrainedWhen.ALL, false));
  }

  @Test
  void dataSeenWithinTheQuietPeriod_forbidsTheRelease() {
    parcel(0, Queues.FILES, 1000, 5000, false);
    read(Queues.FILES, Kind.WATCHER, 1000, 1010, 0);
    read(Queues.FILES, Kind.WATCHER, 5000, 5010);
    read(Queues.FILES, Kind.RESCAN, 11_000, 11_050);

    assertThat(check().violation(0, 12_000, null)).isPresent(); // 7 s after it drained
    assertThat(check().violation(0, 16_000, null)).isEmpty(); // 11 s after
  }

  @Test
  void dataSeenOnlyByAReadingStillOnItsWay_isExcusedOnceGone() {
    // what a correct core cannot know: a snapshot that arrives after the release
    parcel(0, Queues.FILES, 1000, 5000, false);
    read(Queues.FILES, Kind.WATCHER, 1000, 20_000, 0);
    read(Queues.FILES, Kind.RESCAN, 11_000, 11_050);

    assertThat(check().violation(0, 12_000, null)).isEmpty();
  }

  @Test
  void dataQueuedAtTheRelease_thatNoConfirmingRescanPrecedes_isAViolation() {
    // a write the watcher missed, still there: only a rescan after the quiet period could see it
    parcel(0, Queues.FILES, 3000, Long.MAX_VALUE, true);
    read(Queues.FILES, Kind.WATCHER, 0, 10);

    assertThat(check().violation(0, 12_000, null)).isPresent();
  }

  @Test
  void dataWrittenAfterTheConfirmingRescanStarted_isTheOneRaceExcused() {
    parcel(0, Queues.FILES, 11_500, Long.MAX_VALUE, true);
    read(Queues.FILES, Kind.WATCHER, 0, 10);
    read(Queues.FILES, Kind.RESCAN, 11_000, 11_900);

    assertThat(check().violation(0, 12_000, null)).isEmpty();
    // a rescan that started before the quiet period ended does not confirm anything
    Timeline early = new Timeline();
    early.queues = t.queues;
    early.incarnations.addAll(t.incarnations);
    early.deliveries.add(
        new Delivery(0, Queues.FILES, Kind.RESCAN, 9_000, 9_050, true, true, new int[0]));
    assertThat(new ReleaseCheck(early, params(DrainedWhen.ALL, false)).violation(0, 12_000, null))
        .isPresent();
  }

  @Test
  void drainedWhenAny_oneSourceEmptyThroughout_allowsTheRelease() {
    Plan.Params any = params(new DrainedWhen(DrainedWhen.Mode.ANY, Set.of()), true);
    parcel(0, Queues.FILES, 1000, Long.MAX_VALUE, false);
    read(Queues.FILES, Kind.WATCHER, 1000, 1010, 0);
    read(Queues.CRIBL, Kind.PROBE, 11_000, 11_100);
    assertThat(new ReleaseCheck(t, any).violation(0, 12_000, null)).isEmpty();

    parcel(1, Queues.CRIBL, 4000, 6000, false);
    read(Queues.CRIBL, Kind.PROBE, 5000, 5100, 1);
    // from 5.1 s to 6 s both sources had said they held data
    assertThat(new ReleaseCheck(t, any).violation(0, 12_000, null)).isPresent();
  }
}
