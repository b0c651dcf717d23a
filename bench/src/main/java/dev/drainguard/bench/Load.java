package dev.drainguard.bench;

import dev.drainguard.sim.ApiCall;
import dev.drainguard.sim.Simulator;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The load section (issue 18): a writer appends 8 KiB chunks to 1 MiB files under one queue root,
 * deleting the oldest beyond four, at {@link #RATES} appends per second; the packaged agent (all
 * defaults) watches the root, and {@code inotifywait -m -r} watches the same tree, its every event
 * printed to a pipe this JVM reads and counts. Over the same window, each process's CPU time: their
 * ratio is the figure. In service, then while holding (the instance terminated in the simulator,
 * the lifecycle action active). Then a soak at the higher rate: the agent's RSS and heap over time.
 */
final class Load implements AutoCloseable {

  static final int[] RATES = {1_000, 5_000};
  static final int CHUNK = 8 * 1024;
  static final long FILE_BYTES = 1024 * 1024;
  static final int KEEP_FILES = 4;

  /** Before each window: the writer's rhythm settles. */
  static final Duration WARM_UP = Duration.ofSeconds(5);

  /**
   * Once, before the first window, at the highest rate: the agent just started, and its JIT (C1
   * only, as launched) compiles the event path now, which a long-running agent has done long
   * before; unmeasured.
   */
  static final Duration JIT_WARM_UP = Duration.ofSeconds(15);

  static final String INSTANCE = "i-00000000000000load";

  /** One window at one rate. */
  record Phase(
      String state,
      int rate,
      Duration window,
      long appends,
      double agentCpu,
      Double inotifyCpu,
      long inotifyEvents,
      Map<String, Double> agentThreads) {

    Double ratio() {
      return inotifyCpu == null || inotifyCpu == 0 ? null : agentCpu / inotifyCpu;
    }
  }

  /** One reading of the soak: seconds into it, RSS, heap in use (as the GC last left it). */
  record Sample(long second, long rssKib, long heapUsedKib) {}

  record Soak(
      int rate,
      Duration length,
      List<Sample> samples,
      long liveHeapStartKib,
      long liveHeapEndKib) {}

  record Result(List<Phase> phases, Soak soak, String inotifywait) {}

  private final Packaged pkg;
  private final Path work;
  private final Duration window;
  private final Duration soakLength;
  private final Simulator sim;
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private AgentProcess agent;
  private Process inotify;
  private final AtomicLong inotifyLines = new AtomicLong();

  Load(Packaged pkg, Path work, Duration window, Duration soakLength) {
    this.pkg = pkg;
    this.work = work;
    this.window = window;
    this.soakLength = soakLength;
    this.sim = Simulator.start(Clock.systemUTC());
    toClose.add(sim);
  }

  Result run() throws Exception {
    Path dir = work.resolve("load");
    Packaged.deleteTree(dir);
    Path queue = Files.createDirectories(dir.resolve("queues/0/out-load"));
    Path root = queue.getParent().getParent();
    sim.addGroup(Footprint.GROUP);
    sim.addInstance(Footprint.GROUP, INSTANCE, "us-east-1", true);
    sim.addTerminationHook(Footprint.GROUP, Footprint.HOOK, Duration.ofMinutes(5), "ABANDON");
    agent = AgentProcess.start(pkg, AgentProcess.env(sim, dir, root, Map.of()), dir);
    toClose.add(agent);
    agent.awaitReady();
    String inotifywait = startInotifywait(root);
    Bench.say("load: warm-up, " + JIT_WARM_UP.toSeconds() + " s unmeasured");
    try (Writer w = new Writer(queue, RATES[RATES.length - 1])) {
      Thread.sleep(JIT_WARM_UP.toMillis());
      w.appends(); // throws if it failed
    }

    List<Phase> phases = new ArrayList<>();
    for (int rate : RATES) {
      phases.add(phase("in service", rate, queue));
    }
    Bench.say("load: soak at " + RATES[RATES.length - 1] + " appends/s for " + soakLength);
    Soak soak = soak(RATES[RATES.length - 1], queue);
    Bench.say("load: scale-in: waiting for the lifecycle action to be held");
    write(queue.resolve("held.pq"), CHUNK); // data queued whatever the writer has just deleted
    sim.terminate(INSTANCE);
    awaitHolding();
    for (int rate : RATES) {
      phases.add(phase("holding", rate, queue));
    }
    if (!agent.alive()) {
      throw new IllegalStateException("the agent died under load:\n" + agent.output());
    }
    return new Result(phases, soak, inotifywait);
  }

  private Phase phase(String state, int rate, Path queue) throws Exception {
    Bench.say("load: " + state + ", " + rate + " appends/s, window " + window.toSeconds() + " s");
    try (Writer w = new Writer(queue, rate)) {
      Thread.sleep(WARM_UP.toMillis());
      long a0 = w.appends();
      double cpu0 = Proc.cpuSeconds(agent.pid());
      Map<String, Double> threads0 = Proc.cpuByThread(agent.pid());
      Double icpu0 = inotify == null ? null : Proc.cpuSeconds(inotify.pid());
      long lines0 = inotifyLines.get();
      long t0 = System.nanoTime();
      Thread.sleep(window.toMillis());
      Duration measured = Duration.ofNanos(System.nanoTime() - t0);
      double cpu = Proc.cpuSeconds(agent.pid()) - cpu0;
      Double icpu = icpu0 == null ? null : Proc.cpuSeconds(inotify.pid()) - icpu0;
      long lines = inotifyLines.get() - lines0;
      long appends = w.appends() - a0;
      Map<String, Double> threads = new TreeMap<>();
      Proc.cpuByThread(agent.pid())
          .forEach((name, s) -> threads.put(name, s - threads0.getOrDefault(name, 0.0)));
      threads.values().removeIf(s -> s < 0.005);
      return new Phase(state, rate, measured, appends, cpu, icpu, lines, threads);
    }
  }

  private Soak soak(int rate, Path queue) throws Exception {
    long every = Math.max(10, soakLength.toSeconds() / 20);
    List<Sample> samples = new ArrayList<>();
    try (Writer w = new Writer(queue, rate)) {
      Thread.sleep(WARM_UP.toMillis());
      long liveStart = liveHeapKib();
      long t0 = System.nanoTime();
      for (long s = 0; s <= soakLength.toSeconds(); s += every) {
        long due = t0 + TimeUnit.SECONDS.toNanos(s);
        LockSupport.parkNanos(Math.max(0, due - System.nanoTime()));
        samples.add(new Sample(s, Proc.rssKib(agent.pid()), heapUsedKib()));
      }
      long liveEnd = liveHeapKib();
      return new Soak(rate, soakLength, samples, liveStart, liveEnd);
    }
  }

  private void awaitHolding() {
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() - giveUp < 0) {
      for (ApiCall c : sim.calls()) {
        if (c.action().equals(Reaction.HEARTBEAT) && c.succeeded()) {
          return;
        }
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
    }
    throw new IllegalStateException("no heartbeat accepted within 60 s:\n" + agent.output());
  }

  /** Starts inotifywait on the tree; returns how it went, for the notes. */
  private String startInotifywait(Path root) throws IOException, InterruptedException {
    Process which = new ProcessBuilder("sh", "-c", "command -v inotifywait").start();
    String path = new String(which.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (which.waitFor() != 0 || path.isEmpty()) {
      return "inotifywait not found (install Debian's inotify-tools; ./bench/run tries to):"
          + " agent CPU without the comparison";
    }
    Path err = work.resolve("load/inotifywait.err");
    Process p =
        new ProcessBuilder(path, "-m", "-r", root.toString()).redirectError(err.toFile()).start();
    inotify = AgentProcess.track(p);
    toClose.add(
        () -> {
          p.destroy();
          p.waitFor(10, TimeUnit.SECONDS);
        });
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                while (r.readLine() != null) {
                  inotifyLines.incrementAndGet();
                }
              } catch (IOException ended) {
                // inotifywait stopped
              }
            },
            "bench-inotifywait-reader");
    reader.setDaemon(true);
    reader.start();
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!Files.readString(err).contains("Watches established")) {
      if (!p.isAlive() || System.nanoTime() - giveUp > 0) {
        throw new IllegalStateException("inotifywait did not start: " + Files.readString(err));
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
    }
    Process v = new ProcessBuilder(path, "--help").redirectErrorStream(true).start();
    String first = new BufferedReader(new InputStreamReader(v.getInputStream())).readLine();
    v.waitFor(10, TimeUnit.SECONDS);
    return first == null ? path : first.trim();
  }

  /** The heap in use after a full collection (jcmd GC.run, then GC.heap_info). */
  private long liveHeapKib() throws IOException, InterruptedException {
    jcmd("GC.run");
    return heapUsedKib();
  }

  private static final Pattern USED = Pattern.compile("generation\\s+total \\d+K, used (\\d+)K");

  /** Young + old generation in use, as {@code jcmd GC.heap_info} reads it (Serial GC). */
  private long heapUsedKib() throws IOException, InterruptedException {
    Matcher m = USED.matcher(jcmd("GC.heap_info"));
    long used = 0;
    boolean any = false;
    while (m.find()) {
      used += Long.parseLong(m.group(1));
      any = true;
    }
    if (!any) {
      throw new IllegalStateException("no heap figures from jcmd GC.heap_info");
    }
    return used;
  }

  private String jcmd(String command) throws IOException, InterruptedException {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    Process p =
        new ProcessBuilder(jcmd.toString(), Long.toString(agent.pid()), command)
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("jcmd " + command + " failed: " + out);
    }
    return out;
  }

  private static void write(Path file, int bytes) throws IOException {
    Files.write(file, new byte[bytes]);
  }

  /** The section's rows. */
  static void rows(Result r, Table t) {
    for (Phase p : r.phases()) {
      String what =
          String.format(
              "agent CPU / inotifywait CPU, %s, %,d appends/s of 8 KiB (%d s)",
              p.state(), p.rate(), p.window().toSeconds());
      double perEventAgent = p.inotifyEvents() == 0 ? 0 : p.agentCpu() * 1e6 / p.inotifyEvents();
      if (p.ratio() == null) {
        t.add(
            "load",
            what,
            String.format("agent %.2f s (%,d appends); no inotifywait", p.agentCpu(), p.appends()),
            "≤ 1.0",
            "not compared");
        continue;
      }
      double perEventInotify = p.inotifyCpu() * 1e6 / p.inotifyEvents();
      t.add(
          "load",
          what,
          String.format(
              "%.2f (agent %.2f s, inotifywait %.2f s; %,d appends, %,d events: %.1f vs %.1f µs"
                  + " per event)",
              p.ratio(),
              p.agentCpu(),
              p.inotifyCpu(),
              p.appends(),
              p.inotifyEvents(),
              perEventAgent,
              perEventInotify),
          "≤ 1.0 (done at ≤ 1.5)",
          p.ratio() <= 1.0);
    }
    Soak soak = r.soak();
    List<Sample> s = soak.samples();
    long rssMin = s.stream().mapToLong(Sample::rssKib).min().orElse(0);
    long rssMax = s.stream().mapToLong(Sample::rssKib).max().orElse(0);
    long heapMin = s.stream().mapToLong(Sample::heapUsedKib).min().orElse(0);
    long heapMax = s.stream().mapToLong(Sample::heapUsedKib).max().orElse(0);
    t.add(
        "load",
        String.format(
            "agent RSS over %d s at %,d appends/s (%d readings)",
            soak.length().toSeconds(), soak.rate(), s.size()),
        String.format(
            "first %.1f MiB, last %.1f MiB (min %.1f, max %.1f)",
            s.get(0).rssKib() / 1024.0,
            s.get(s.size() - 1).rssKib() / 1024.0,
            rssMin / 1024.0,
            rssMax / 1024.0),
        "flat",
        "");
    t.add(
        "load",
        "agent heap over the same run: live after a full GC at start → end; in use between",
        String.format(
            "live %.1f → %.1f MiB; in use %.1f to %.1f MiB",
            soak.liveHeapStartKib() / 1024.0,
            soak.liveHeapEndKib() / 1024.0,
            heapMin / 1024.0,
            heapMax / 1024.0),
        "flat",
        "");
  }

  /** How the figures were taken, the readings of the soak, where the agent's CPU went. */
  static void notes(Result r, java.io.PrintStream md) {
    md.println("Load (issue 18): " + r.inotifywait() + ".");
    md.printf(
        "The writer (a thread of the bench JVM) appends %d KiB chunks to %d MiB files under one"
            + " queue root of the packaged agent (all defaults), deleting the oldest beyond %d;"
            + " `inotifywait -m -r` watches the same tree and prints every event to a pipe the bench"
            + " reads. CPU is utime + stime from /proc over the same window, after %d s of warm-up"
            + " (and %d s at the highest rate before the first window, for the agent's JIT);"
            + " per event = CPU / inotifywait's events. Holding: the instance terminated in the"
            + " simulator, the action held (data queued).%n",
        CHUNK / 1024,
        FILE_BYTES / 1048576,
        KEEP_FILES,
        WARM_UP.toSeconds(),
        JIT_WARM_UP.toSeconds());
    for (Phase p : r.phases()) {
      md.printf(
          "- %s, %,d appends/s: agent threads (CPU s): %s%n", p.state(), p.rate(), threads(p));
    }
    StringBuilder readings = new StringBuilder();
    for (Sample s : r.soak().samples()) {
      readings.append(
          String.format(
              "%s%d s %.1f/%.1f",
              readings.isEmpty() ? "" : ", ",
              s.second(),
              s.rssKib() / 1024.0,
              s.heapUsedKib() / 1024.0));
    }
    md.println("- soak readings (s: RSS MiB / heap in use MiB, jcmd GC.heap_info): " + readings);
  }

  private static String threads(Phase p) {
    StringBuilder b = new StringBuilder();
    p.agentThreads().entrySet().stream()
        .sorted((x, y) -> Double.compare(y.getValue(), x.getValue()))
        .forEach(
            e ->
                b.append(b.isEmpty() ? "" : ", ")
                    .append(e.getKey())
                    .append(' ')
                    .append(String.format("%.2f", e.getValue())));
    return b.toString();
  }

  @Override
  public void close() {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      try {
        toClose.get(i).close();
      } catch (Exception e) {
        System.err.println("bench: closing " + toClose.get(i) + " failed: " + e);
      }
    }
  }

  /**
   * The writer: {@code rate} appends of {@link #CHUNK} bytes a second on its own thread, paced on
   * an absolute schedule (a late append is made at once, not skipped), a new file every {@link
   * #FILE_BYTES}, the oldest deleted beyond {@link #KEEP_FILES}.
   */
  static final class Writer implements AutoCloseable {
    private final Path dir;
    private final long periodNanos;
    private final AtomicLong appends = new AtomicLong();
    private final Thread thread;
    private volatile boolean stop;
    private volatile Exception failure;

    Writer(Path dir, int rate) {
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
}
