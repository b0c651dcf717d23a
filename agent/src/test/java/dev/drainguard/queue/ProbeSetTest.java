package dev.drainguard.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every queue source behind the one listener the decision core sees, over a real directory. */
class ProbeSetTest {

  @TempDir Path root;
  final List<QueueSnapshot> files = new CopyOnWriteArrayList<>();
  final List<Boolean> rescans = new CopyOnWriteArrayList<>();
  final List<ProbeReading> readings = new CopyOnWriteArrayList<>();
  final List<Long> seqs = new CopyOnWriteArrayList<>();
  final List<Long> fileSeqs = new CopyOnWriteArrayList<>();

  /** A probe whose bytes the test sets; throws or blocks when told to, as a buggy probe would. */
  static final class Settable implements Probe {
    final AtomicLong bytes = new AtomicLong();
    volatile boolean explode;
    volatile CountDownLatch blockUntil = new CountDownLatch(0);

    @Override
    public String name() {
      return CommandProbe.NAME;
    }

    @Override
    public ProbeReading read() {
      Instant started = Clock.systemUTC().instant();
      try {
        blockUntil.await(1, TimeUnit.MINUTES);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (explode) {
        throw new StackOverflowError("bug in a probe");
      }
      return ProbeReading.known(name(), started, List.of(new QueueReading("q", bytes.get())));
    }

    @Override
    public String describe() {
      return "settable";
    }
  }

  ProbeSet set(Probe probe, Duration interval) {
    return new ProbeSet(
        List.of(new QueueRootSpec(root, List.of(), 0)),
        Duration.ofHours(1),
        List.of(probe),
        interval,
        Clock.systemUTC(),
        new ProbeSet.Listener() {
          @Override
          public void files(QueueSnapshot s, long seq, boolean rescan) {
            fileSeqs.add(seq);
            files.add(s);
            rescans.add(rescan);
          }

          @Override
          public void reading(ProbeReading r, long seq) {
            readings.add(r);
            seqs.add(seq);
          }
        });
  }

  @Test
  void start_neverWaitsForAProbe_whichIsUnknownUntilItAnswers() {
    // Guards against reproduction 3 of issue 13: a probe that stalls at start-up hung the agent
    // before its control socket and IMDS polling started.
    Settable probe = new Settable();
    probe.blockUntil = new CountDownLatch(1);
    try (ProbeSet set = set(probe, Duration.ofMillis(50))) {
      set.start(); // returns although the probe's first read is blocked
      assertThat(readings).isEmpty();
      assertThat(files).isNotEmpty();
      probe.blockUntil.countDown();
      await().atMost(Duration.ofSeconds(10)).until(() -> readings.size() >= 3);
      assertThat(seqs).isSorted().doesNotHaveDuplicates();
    }
  }

  @Test
  void aProbeThatThrowsAnyThrowable_isUnknown_andKeepsBeingAsked() {
    Settable probe = new Settable();
    probe.explode = true;
    try (ProbeSet set = set(probe, Duration.ofMillis(50))) {
      set.start();
      await().atMost(Duration.ofSeconds(10)).until(() -> readings.size() >= 2);
      assertThat(readings.get(0).unknown())
          .hasValueSatisfying(u -> assertThat(u).contains("StackOverflowError: bug in a probe"));
      probe.explode = false;
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> readings.get(readings.size() - 1).unknown().isEmpty());
    }
  }

  @Test
  void confirm_rescansTheRootsAndReadsEveryProbeAfresh() throws Exception {
    Settable probe = new Settable();
    try (ProbeSet set = set(probe, Duration.ofHours(1))) {
      set.start();
      await().atMost(Duration.ofSeconds(10)).until(() -> readings.size() == 1);
      Files.write(root.resolve("chunk"), new byte[4096]);
      Instant asked = Clock.systemUTC().instant();
      set.confirm();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> readings.size() == 2 && rescans.contains(true));
      QueueSnapshot rescan = files.get(rescans.indexOf(true));
      assertThat(rescan.takenAt()).isAfterOrEqualTo(asked);
      assertThat(rescan.totalBytes()).isEqualTo(4096);
      assertThat(readings.get(1).readAt()).isAfterOrEqualTo(asked);
    }
  }

  /**
   * A rescan's answer numbered when it came back outranked a batch the watcher told after the walk
   * (numbered before it), and the decision thread kept the older answer: status read empty for a
   * while although the newer batch saw data. It is numbered when asked, so the watcher's own tell
   * of the same walk, and every tell after it, outranks it.
   */
  @Test
  void aRescansAnswer_isNumberedWhenAsked_belowTheWatchersOwnTellOfTheWalk() throws Exception {
    try (ProbeSet set = set(new Settable(), Duration.ofHours(1))) {
      set.start();
      Files.write(root.resolve("chunk"), new byte[4096]);
      set.confirm().get(10, TimeUnit.SECONDS);
      int answer = rescans.indexOf(true);
      assertThat(answer).isNotNegative();
      Instant walk = files.get(answer).takenAt();
      int told = -1;
      for (int i = 0; i < files.size(); i++) {
        if (!rescans.get(i) && files.get(i).takenAt().equals(walk)) {
          told = i;
        }
      }
      assertThat(told).as("the watcher tells every walk it was asked for").isNotNegative();
      assertThat(files.get(told).totalBytes()).isEqualTo(4096);
      assertThat(fileSeqs.get(answer)).isLessThan(fileSeqs.get(told));
    }
  }

  @Test
  void addRoots_theListenerHearsTheNewRoot_andConfirmationsRescanIt(@TempDir Path added)
      throws Exception {
    Files.write(added.resolve("queued.pq"), new byte[300]);
    try (ProbeSet set = set(new Settable(), Duration.ofHours(1))) {
      set.start();

      assertThat(set.addRoots(List.of(new QueueRootSpec(added, List.of(), 0)))).hasSize(1);

      QueueSnapshot told = files.get(files.size() - 1);
      assertThat(told.roots()).extracting(RootStatus::root).containsExactly(root, added);
      assertThat(told.totalBytes()).isEqualTo(300);
      assertThat(set.filesSnapshot().empty()).isFalse();
      set.confirm().get(10, TimeUnit.SECONDS);
      QueueSnapshot rescan = files.get(rescans.lastIndexOf(true));
      assertThat(rescan.roots()).extracting(RootStatus::root).containsExactly(root, added);
      assertThat(rescan.totalBytes()).isEqualTo(300);
    }
  }

  @Test
  void aRuleNamingAProbeThatIsNotConfigured_isRefused() {
    assertThatThrownBy(() -> ProbeSet.checkRule(DrainedWhen.parse("cribl"), List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("drained-when names probe cribl, which is not configured");
  }
}
