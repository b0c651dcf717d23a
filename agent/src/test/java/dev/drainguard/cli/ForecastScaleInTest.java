package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.config.Setting;
import dev.drainguard.drain.DrainStatus;
import dev.drainguard.drain.Phase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16 through the real agent against the simulator: while holding under policy expire with a
 * max-hold, a queue that drains too slowly for the deadline is warned about (status AT RISK, the
 * bytes the rate leaves, the on-termination command's {@code at-risk} event); one that will drain
 * in time is not.
 */
class ForecastScaleInTest {

  static final int FILES = 10;
  static final int FILE_BYTES = 100_000;

  @TempDir Path root;

  private void fill() throws IOException {
    for (int i = 0; i < FILES; i++) {
      Files.write(root.resolve(String.format("%05d.pq", i)), new byte[FILE_BYTES]);
    }
  }

  /** Drains one file every {@code every} of clock time, for {@code files} files. */
  private static void drain(ScaleInHarness h, Path root, int files, Duration every)
      throws IOException {
    for (int i = 0; i < files; i++) {
      h.advance(every, Duration.ofSeconds(5));
      Files.delete(root.resolve(String.format("%05d.pq", i)));
      int left = FILES - i - 1;
      h.awaitStatus(s -> s.queues().totalFiles() == left);
    }
  }

  @Test
  void aDrainTooSlowForTheDeadline_isWarnedAbout_beforeTheDeadline() throws IOException {
    fill();
    try (ScaleInHarness h = new ScaleInHarness(Duration.ofSeconds(60), Duration.ZERO, root)) {
      h.set(Setting.MAX_HOLD, "5m").set(Setting.ON_TERMINATION_COMMAND, "true");
      h.startAgent();
      h.scaleInUntilHolding();
      // one file a minute: ten minutes of work for a five-minute max-hold
      drain(h, root, 3, Duration.ofMinutes(1));
      DrainStatus s = h.status();
      assertThat(s.phase()).isEqualTo(Phase.HOLDING);
      assertThat(s.atRiskWarnedAt()).isPresent();
      assertThat(s.forecast().atRisk()).isTrue();
      assertThat(s.forecast().bytesAtRisk().getAsLong()).isPositive();
      assertThat(s.eventCommands()).contains("at-risk");
    }
  }

  @Test
  void aDrainThatFinishesInTime_isNotWarnedAbout() throws IOException {
    fill();
    try (ScaleInHarness h = new ScaleInHarness(Duration.ofSeconds(60), Duration.ZERO, root)) {
      h.set(Setting.MAX_HOLD, "30m").set(Setting.ON_TERMINATION_COMMAND, "true");
      h.startAgent();
      h.scaleInUntilHolding();
      // one file every 10 s: under two minutes of work for a thirty-minute max-hold
      drain(h, root, FILES, Duration.ofSeconds(10));
      h.advance(Duration.ofSeconds(15), Duration.ofSeconds(1));
      DrainStatus done = h.awaitStatus(st -> st.phase() == Phase.COMPLETED);
      assertThat(done.atRiskWarnedAt()).isEmpty();
      assertThat(done.eventCommands()).doesNotContain("at-risk");
    }
  }
}
