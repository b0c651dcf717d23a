package dev.drainguard.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The probes combined behind the one seam the controller sees, over a real directory. */
class ProbeSetTest {

  @TempDir Path root;
  final List<QueueSnapshot> seen = new CopyOnWriteArrayList<>();

  /** A probe whose bytes the test sets; throws when told to, as a buggy probe would. */
  static final class Settable implements Probe {
    final AtomicLong bytes = new AtomicLong();
    volatile boolean explode;

    @Override
    public String name() {
      return CommandProbe.NAME;
    }

    @Override
    public ProbeReading read() {
      if (explode) {
        throw new IllegalStateException("bug in a probe");
      }
      return ProbeReading.known(
          name(), Clock.systemUTC().instant(), List.of(new QueueReading("q", bytes.get())));
    }

    @Override
    public String describe() {
      return "settable";
    }
  }

  ProbeSet set(Probe probe, DrainedWhen rule) {
    return new ProbeSet(
        List.of(new QueueRootSpec(root, List.of(), 0)),
        Duration.ofHours(1),
        List.of(probe),
        Duration.ofMillis(50),
        rule,
        Clock.systemUTC(),
        seen::add);
  }

  @Test
  void theVerdictFollowsTheRule_andEachChangeReachesTheListener() {
    Settable probe = new Settable();
    probe.bytes.set(10);
    try (ProbeSet set = set(probe, DrainedWhen.ALL)) {
      set.start();
      QueueSnapshot first = set.snapshot();
      assertThat(first.empty()).isFalse();
      assertThat(first.probes())
          .extracting(ProbeReading::probe)
          .containsExactly("files", "command");
      assertThat(first.totalBytes()).isEqualTo(10);

      probe.bytes.set(0);

      await().atMost(Duration.ofSeconds(10)).until(() -> seen.get(seen.size() - 1).empty());
      assertThat(set.snapshot().empty()).isTrue();
      int told = seen.size();
      // nothing changes: nothing more is told, although the probe is asked every 50 ms
      await().pollDelay(Duration.ofMillis(300)).until(() -> true);
      assertThat(seen).hasSize(told);
    }
  }

  @Test
  void aProbeThatThrows_isUnknown_andKeepsBeingAsked() {
    Settable probe = new Settable();
    try (ProbeSet set = set(probe, DrainedWhen.parse("command"))) {
      set.start();
      assertThat(set.snapshot().empty()).isTrue();

      probe.explode = true;
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> set.snapshot().probes().get(1).unknown().isPresent());
      assertThat(set.snapshot().empty()).isFalse();
      assertThat(set.snapshot().anyError()).isTrue();
      assertThat(set.snapshot().probes().get(1).unknown().get())
          .contains("probe failed: java.lang.IllegalStateException: bug in a probe");

      probe.explode = false;
      await().atMost(Duration.ofSeconds(10)).until(() -> set.snapshot().empty());
    }
  }

  @Test
  void aRuleNamingAProbeThatIsNotConfigured_isRefused() {
    assertThatThrownBy(
            () ->
                new ProbeSet(
                    List.of(new QueueRootSpec(root, List.of(), 0)),
                    Duration.ofHours(1),
                    List.of(),
                    Duration.ofSeconds(1),
                    DrainedWhen.parse("cribl"),
                    Clock.systemUTC(),
                    seen::add))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("drained-when names probe cribl, which is not configured");
  }
}
