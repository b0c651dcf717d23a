package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.drainguard.config.Setting;
import dev.drainguard.drain.DrainStatus;
import dev.drainguard.drain.Phase;
import dev.drainguard.queue.ProbeSet;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How often a busy writer's changes of bytes alone reach the decision thread once the deadline has
 * passed and the agent goes on for hours: retained (policy retain, ABANDON accepted). 2359440 tells
 * every change from just before the status's deadline; retained, the status still carries the old
 * deadline, so every batch of a busy writer went through the agent again for as long as it stayed
 * retained (the load a769577 took away). Past the deadline nothing is decided by a change of bytes
 * alone, so the urgent refresh (at most one told per {@code URGENT_BYTES_REFRESH}) must hold again.
 */
class UrgentTellRateScaleInTest {

  static final Duration HT = Duration.ofSeconds(60);

  /** 100,000 to 100,400 bytes share a bucket ([98,304, 106,496)): changes of bytes alone. */
  static final int START = 100_000;

  static final int APPENDS = 40;
  static final int CHUNK = 10;

  @TempDir Path root;
  ScaleInHarness h;

  @AfterEach
  void tearDown() {
    if (h != null) {
      h.close();
    }
  }

  @Test
  void retainedUnderABusyWriter_changesOfBytesAloneAreToldAtTheUrgentRefreshOnly()
      throws Exception {
    Path dir = Files.createDirectories(root.resolve("0/out-s3"));
    Path file = Files.write(dir.resolve("00001.pq"), new byte[START]);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.sim.setRetainOnTerminateHookAbandon(ScaleInHarness.GROUP, true);
    h.set(Setting.DEADLINE_POLICY, "retain");
    List<Long> told = new CopyOnWriteArrayList<>();
    h.startAgent(s -> told.add(s.queues().totalBytes()));
    h.scaleInUntilHolding();
    h.advance(Duration.ofMinutes(96), Duration.ofSeconds(10));
    h.advance(Duration.ofSeconds(10));
    DrainStatus retained = h.awaitStatus(s -> s.phase() == Phase.RETAINED);
    assertThat(retained.deadline()).isPresent(); // the old deadline, passed
    assertThat(retained.deadline().get()).isBefore(h.clock.instant());

    ProbeSet probes = h.probeSet();
    told.clear();
    long began = System.nanoTime();
    long onDisk = START;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.APPEND)) {
      for (int i = 0; i < APPENDS; i++) {
        ch.write(ByteBuffer.allocate(CHUNK));
        long expect = onDisk += CHUNK;
        // the next append waits until the watcher has published this one: a batch per append
        await()
            .atMost(Duration.ofSeconds(10))
            .pollInterval(Duration.ofMillis(1))
            .until(() -> probes.filesSnapshot().totalBytes() == expect);
      }
    }
    long seconds = Duration.ofNanos(System.nanoTime() - began).toSeconds();
    long last = onDisk;
    h.awaitStatus(s -> s.queues().totalBytes() == last); // held back, never lost
    long distinct = told.stream().filter(b -> b > START && b < last).distinct().count();
    assertThat(distinct)
        .as(
            "changes of bytes alone told to the decision thread in %d s of %d appends (one per"
                + " second at most while urgent, past the deadline too)",
            seconds, APPENDS)
        .isLessThanOrEqualTo(seconds + 2);
    assertThat(h.status().phase()).isEqualTo(Phase.RETAINED);
  }
}
