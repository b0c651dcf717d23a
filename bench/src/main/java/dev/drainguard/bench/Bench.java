package dev.drainguard.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs every benchmark and prints one table: {@code ./bench/run} (see the README's Benchmarks
 * section). Everything it starts talks only to the simulator on 127.0.0.1.
 *
 * <p>Options: {@code --packaged DIR} (the staged package tree, {@code packaging/target/root}),
 * {@code --work DIR}, {@code --trials N} (100), {@code --lanes N} (2), {@code --window SECONDS}
 * (180), {@code --seed N}, {@code --out FILE} (the table and the details, as Markdown), {@code
 * --load-seconds N} (60, each window of the load section), {@code --soak-seconds N} (600, its heap
 * and RSS run), {@code --only load} or {@code --only footprint} (that section alone, for a quick
 * run; the footprint section alone also reports the fleet rows, which come from its agents).
 */
public final class Bench {

  private Bench() {}

  public static void main(String[] argv) throws Exception {
    Map<String, String> a = options(argv);
    Path packaged = Path.of(a.getOrDefault("packaged", "packaging/target/root")).toAbsolutePath();
    Path work =
        Files.createDirectories(
            Path.of(a.getOrDefault("work", "bench/target/work")).toAbsolutePath());
    int trials = Integer.parseInt(a.getOrDefault("trials", "100"));
    int lanes = Integer.parseInt(a.getOrDefault("lanes", "2"));
    Duration window = Duration.ofSeconds(Long.parseLong(a.getOrDefault("window", "180")));
    long seed = Long.parseLong(a.getOrDefault("seed", "20261202"));
    Path out = Path.of(a.getOrDefault("out", "bench/target/benchmarks.md")).toAbsolutePath();
    Duration loadWindow = Duration.ofSeconds(Long.parseLong(a.getOrDefault("load-seconds", "60")));
    Duration soak = Duration.ofSeconds(Long.parseLong(a.getOrDefault("soak-seconds", "600")));
    boolean onlyLoad = "load".equals(a.get("only"));
    boolean onlyFootprint = "footprint".equals(a.get("only"));
    if (a.containsKey("only") && !onlyLoad && !onlyFootprint) {
      throw new IllegalArgumentException("--only takes 'load' or 'footprint': " + a.get("only"));
    }
    if (!onlyLoad) {
      Footprint.checkWindow(window); // before anything runs, not after the other sections
    }
    String classpath = System.getProperty("java.class.path");
    Logging.quiet();
    long t0 = System.nanoTime();
    String loadBefore = Proc.loadAverage();

    say(
        "installing the packaged agent into "
            + work.resolve("pkg")
            + " (CDS archive as at install)");
    Packaged pkg = Packaged.install(packaged, work);
    Packaged.LaunchOptions run = pkg.launchOptions("run", work);
    say("launcher JVM options for run: " + String.join(" ", run.jvmOptions()));

    Report report = null;
    Reaction.Result reaction = null;
    if (!onlyLoad) {
      Micro.Results micro = null;
      if (!onlyFootprint) {
        say("micro: JMH, then the watcher's heap in a JVM of its own");
        micro = new Micro(work, run.jvmOptions(), classpath).run();
      }

      Footprint.Result footprint;
      try (Footprint fp = new Footprint(pkg, work, window)) {
        fp.start(classpath);
        say(
            "footprint: idle agent, holding agent and bare JVM started; window "
                + window.toSeconds()
                + " s"
                + (onlyFootprint ? "" : ", during the reaction trials"));
        if (!onlyFootprint) {
          say("reaction: " + trials + " trials in " + lanes + " lanes");
          reaction = new Reaction(pkg, work).run(trials, lanes, seed);
        }
        say("footprint: waiting for the end of the window, then timing drainguard status");
        footprint = fp.finish();
      }
      if (reaction != null && reaction.trials().isEmpty()) {
        throw new IllegalStateException("every reaction trial failed: " + reaction.failures());
      }
      report = new Report(footprint, micro, reaction, run, seed, lanes);
    }

    Load.Result load = null;
    if (!onlyFootprint) {
      try (Load l = new Load(pkg, work, loadWindow, soak)) {
        say("load: a writer at " + java.util.Arrays.toString(Load.RATES) + " appends/s");
        load = l.run();
      }
    }
    Table table = report != null ? report.table() : new Table();
    if (load != null) {
      LoadReport.rows(load, table);
    }
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    try (PrintStream md = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
      md.println(machine());
      md.printf(
          "Command: `%s`. Load average (1 min) %s at the start, %s at the end.%n",
          System.getenv().getOrDefault("BENCH_COMMAND", "Bench " + String.join(" ", argv)),
          loadBefore,
          Proc.loadAverage());
      md.println();
      table.print(md);
      md.println();
      if (report != null) {
        report.notes(md);
        md.println();
      }
      if (load != null) {
        LoadReport.notes(load, md);
      }
      md.printf(
          "%nAll benchmarks took %d s.%n", Duration.ofNanos(System.nanoTime() - t0).toSeconds());
    }
    String text = buf.toString(StandardCharsets.UTF_8);
    Files.createDirectories(out.getParent());
    Files.writeString(out, text);
    System.out.println();
    System.out.println("==================== drainguard benchmarks ====================");
    System.out.print(text);
    System.out.println("(also written to " + out + ")");
    if (reaction != null && !reaction.failures().isEmpty()) {
      System.exit(1);
    }
  }

  static String machine() throws IOException {
    String mem =
        Files.readAllLines(Path.of("/proc/meminfo")).stream()
            .filter(l -> l.startsWith("MemTotal:"))
            .map(
                l -> String.format("%.1f GiB", Long.parseLong(l.replaceAll("\\D", "")) / 1048576.0))
            .findFirst()
            .orElse("?");
    return String.format(
        "Run %s on %d cores, %s memory, %s %s (%s), %s %s.",
        ZonedDateTime.now(ZoneOffset.UTC)
            .format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")),
        Runtime.getRuntime().availableProcessors(),
        mem,
        System.getProperty("java.vm.name"),
        System.getProperty("java.runtime.version"),
        System.getProperty("java.vm.vendor"),
        System.getProperty("os.name"),
        System.getProperty("os.version"));
  }

  private static Map<String, String> options(String[] argv) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < argv.length; i++) {
      if (!argv[i].startsWith("--") || i + 1 == argv.length) {
        throw new IllegalArgumentException("usage: Bench [--option value]...; bad: " + argv[i]);
      }
      m.put(argv[i].substring(2), argv[++i]);
    }
    List.of(m.keySet().toArray(String[]::new))
        .forEach(
            k -> {
              if (!List.of(
                      "packaged",
                      "work",
                      "trials",
                      "lanes",
                      "window",
                      "seed",
                      "out",
                      "load-seconds",
                      "soak-seconds",
                      "only")
                  .contains(k)) {
                throw new IllegalArgumentException("unknown option --" + k);
              }
            });
    return m;
  }

  static void say(String s) {
    System.out.println("bench: " + s);
    System.out.flush();
  }
}
