package dev.drainguard.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A watcher thread that dies is a dead agent (DESIGN.md): its roots read unknown, never empty, and
 * the agent is told so that it exits and systemd restarts it. Found by the review of the new core:
 * before, an Error left the agent running with a watcher that watched nothing.
 */
class QueueWatcherDeathTest {

  @TempDir Path tmp;

  @Test
  void anErrorOnTheWatcherThread_makesEveryRootUnknown_andTellsTheAgent() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("queues"));
    AtomicInteger deaths = new AtomicInteger();
    QueueWatcher w =
        new QueueWatcher(
            List.of(new QueueRootSpec(root, List.of(), 0)), Clock.systemUTC(), s -> {});
    try {
      w.onDeath(deaths::incrementAndGet);
      w.start();
      assertThat(w.snapshot().empty()).isTrue();
      assertThatThrownBy(
              () -> WatcherHooks.fail(w, root, new NoClassDefFoundError("a bug in the watcher")))
          .hasMessageContaining("a bug in the watcher");
      await().atMost(Duration.ofSeconds(10)).until(() -> deaths.get() == 1);
      assertThat(w.snapshot().empty()).isFalse();
      assertThat(w.snapshot().anyError()).isTrue();
      assertThat(w.rescan().empty()).isFalse();
    } finally {
      w.close();
    }
    assertThat(deaths.get()).isEqualTo(1); // closing is not a death
  }
}
