package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.drainguard.config.Setting;
import dev.drainguard.drain.DrainStatus;
import dev.drainguard.drain.Phase;
import dev.drainguard.queue.ProbeSet;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Changes of bytes alone while holding (a769577 holds such a change back from the decision thread
 * up to a second while urgent), through the real agent and inotify against the simulator: the
 * change reaches status without any further event, heartbeats go on, the bytes the deadline policy
 * gives as lost or left are the bytes on disk rather than those before the change, and a drain by
 * bytes alone is progress to the stall detection.
 */
class HeldBackBytesScaleInTest {

  static final Duration HT = Duration.ofSeconds(60);

  /** 100,000 and 100,200 bytes share a bucket ([98,304, 106,496)): a change of bytes alone. */
  static final int START = 100_000;

  static final int APPENDS = 20;
  static final int CHUNK = 10;

  @TempDir Path root;
  ScaleInHarness h;

  @AfterEach
  void tearDown() {
    if (h != null) {
      h.close();
    }
  }

  @ParameterizedTest(name = "policy={0}")
  @CsvSource({"complete, COMPLETED", "expire, EXPIRED"})
  void aChangeOfBytesAloneBeforeTheDeadline_isWhatTheDeadlineGives(String policy, Phase end)
      throws IOException {
    Path file = holdingUntilTwoMinutes(policy);

    appendChunks(file);
    long onDisk = START + APPENDS * CHUNK;
    // no further event: the watcher's refresh alone tells the decision thread
    h.awaitStatus(s -> s.queues().totalBytes() == onDisk);

    h.advance(Duration.ofMinutes(2));
    DrainStatus s = h.awaitStatus(st -> st.phase() == end);
    assertThat(s.bytesAtEnd()).isEqualTo(onDisk);
    assertThat(h.accepted("RecordLifecycleActionHeartbeat")).isGreaterThanOrEqualTo(6);
  }

  /**
   * The approach of the deadline: from twice the urgent refresh before it, every change of bytes is
   * told at once, so a change made just after a tell (which the refresh alone would hold back for
   * up to a second) is what the deadline gives as lost or left. The clock is moved past the
   * deadline as soon as the watcher has published the change: without the approach, the decision
   * thread would still hold the bytes told before it.
   */
  @ParameterizedTest(name = "policy={0}")
  @CsvSource({"complete, COMPLETED", "expire, EXPIRED"})
  void aChangeOfBytesAloneJustBeforeTheDeadline_isWhatTheDeadlineGives(String policy, Phase end)
      throws Exception {
    Path file = holdingUntilTwoMinutes(policy);
    Path dir = file.getParent();
    Instant deadline = h.status().deadline().orElseThrow();
    h.advance(Duration.between(h.clock.instant(), deadline.minusMillis(1500)));

    Files.write(dir.resolve("00002.pq"), new byte[1]); // a new file: told at once
    h.awaitStatus(s -> s.queues().totalFiles() == 2);
    appendChunks(file);
    long onDisk = START + 1 + APPENDS * CHUNK;
    ProbeSet probes = h.probeSet();
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(1))
        .until(() -> probes.filesSnapshot().totalBytes() == onDisk);

    h.advance(Duration.ofSeconds(3));
    DrainStatus s = h.awaitStatus(st -> st.phase() == end);
    assertThat(s.bytesAtEnd()).isEqualTo(onDisk);
  }

  /**
   * A queue drained by bytes alone (a consumer that truncates in place, the files kept), 100 bytes
   * every 10 s, each within the same bucket: every decrease is progress for {@code stall-after},
   * though each reaches the decision thread only by the refresh; once it stops shrinking, it is
   * stalled after {@code stall-after}.
   */
  @Test
  void aDrainByBytesAlone_isProgress_andItsEndIsAStall() throws IOException {
    Path dir = Files.createDirectories(root.resolve("0/out-s3"));
    Path file = Files.write(dir.resolve("00001.pq"), new byte[START]);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.set(Setting.STALL_AFTER, "1m").set(Setting.MAX_HOLD, "30m");
    h.startAgent();
    h.scaleInUntilHolding();
    h.awaitStatus(s -> s.queues().totalBytes() == START);

    for (int i = 1; i <= 12; i++) {
      h.advance(Duration.ofSeconds(10));
      long left = START - i * 100L;
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
        ch.truncate(left);
      }
      h.awaitStatus(s -> s.queues().totalBytes() == left);
    }
    assertThat(h.status().forecast().stalled()).as("shrinking for two minutes").isFalse();

    h.advance(Duration.ofSeconds(70));
    DrainStatus s = h.status();
    assertThat(s.phase()).isEqualTo(Phase.HOLDING);
    assertThat(s.forecast().stalled()).as("not shrinking for 70 s").isTrue();
  }

  /**
   * One queue file of {@link #START} bytes, the agent started with {@code policy} and a two-minute
   * max-hold, the scale-in held, and {@link #START} bytes in status: the queue file.
   */
  private Path holdingUntilTwoMinutes(String policy) throws IOException {
    Path dir = Files.createDirectories(root.resolve("0/out-s3"));
    Path file = Files.write(dir.resolve("00001.pq"), new byte[START]);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.set(Setting.DEADLINE_POLICY, policy).set(Setting.MAX_HOLD, "2m");
    h.startAgent();
    h.scaleInUntilHolding();
    h.awaitStatus(s -> s.queues().totalBytes() == START);
    return file;
  }

  /** {@link #APPENDS} appends of {@link #CHUNK} bytes: changes of bytes alone. */
  private static void appendChunks(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.APPEND)) {
      for (int i = 0; i < APPENDS; i++) {
        ch.write(ByteBuffer.allocate(CHUNK));
      }
    }
  }
}
