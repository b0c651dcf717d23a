package dev.drainguard.bench;

import static dev.drainguard.bench.Load.CHUNK;
import static dev.drainguard.bench.Load.FILE_BYTES;
import static dev.drainguard.bench.Load.KEEP_FILES;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The writer: {@code rate} appends of {@link Load#CHUNK} bytes a second on its own thread, paced on
 * an absolute schedule (a late append is made at once, not skipped), a new file every {@link
 * Load#FILE_BYTES}, the oldest deleted beyond {@link Load#KEEP_FILES}.
 */
final class LoadWriter implements AutoCloseable {
  private final Path dir;
  private final long periodNanos;
  private final AtomicLong appends = new AtomicLong();
  private final Thread thread;
  private volatile boolean stop;
  private volatile Exception failure;

  LoadWriter(Path dir, int rate) {
    this.dir = dir;
    this.periodNanos = TimeUnit.SECONDS.toNanos(1) / rate;
    this.thread = new Thread(this::run, "bench-load-writer");
    thread.setDaemon(true);
    thread.start();
  }

  long appends() {
    if (failure != null) {
      throw new IllegalStateException("the load writer failed", failure);
    }
    return appends.get();
  }

  private void run() {
    ByteBuffer chunk = ByteBuffer.allocate(CHUNK);
    Deque<Path> files = new ArrayDeque<>();
    long seq = System.nanoTime();
    FileChannel ch = null;
    long written = FILE_BYTES;
    long next = System.nanoTime();
    try {
      while (!stop) {
        if (written >= FILE_BYTES) {
          if (ch != null) {
            ch.close();
          }
          Path f = dir.resolve(String.format("%020d.pq", seq++));
          ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.APPEND);
          files.addLast(f);
          while (files.size() > KEEP_FILES) {
            Files.deleteIfExists(files.removeFirst());
          }
          written = 0;
        }
        chunk.clear();
        while (chunk.hasRemaining()) {
          ch.write(chunk);
        }
        written += CHUNK;
        appends.incrementAndGet();
        next += periodNanos;
        long wait = next - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(wait);
        }
      }
    } catch (IOException e) {
      failure = e;
    } finally {
      try {
        if (ch != null) {
          ch.close();
        }
      } catch (IOException e) {
        failure = e;
      }
    }
  }

  @Override
  public void close() throws InterruptedException {
    stop = true;
    thread.join();
  }
}
