package dev.drainguard.bench;

import dev.drainguard.sim.ApiCall;
import dev.drainguard.sim.Simulator;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
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
    try (LoadWriter w = new LoadWriter(queue, RATES[RATES.length - 1])) {
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
    try (LoadWriter w = new LoadWriter(queue, rate)) {
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
    try (LoadWriter w = new LoadWriter(queue, rate)) {
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
}
