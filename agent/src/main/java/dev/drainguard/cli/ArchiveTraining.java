package dev.drainguard.cli;

import dev.drainguard.config.Setting;
import dev.drainguard.drain.ControlResult;
import dev.drainguard.drain.DeadlinePolicy;
import dev.drainguard.drain.DrainStatus;
import dev.drainguard.drain.Phase;
import dev.drainguard.forecast.Forecast;
import dev.drainguard.imds.TargetLifecycleState;
import dev.drainguard.lifecycle.LifecycleHookRef;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.lifecycle.TerminationHook;
import dev.drainguard.operator.Caller;
import dev.drainguard.queue.ProbeReading;
import dev.drainguard.queue.QueueReading;
import dev.drainguard.queue.QueueSnapshot;
import dev.drainguard.queue.RootStatus;
import dev.drainguard.status.ControlHandler;
import dev.drainguard.status.ControlServer;
import dev.drainguard.status.StatusView;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.stream.Stream;

/**
 * The training run of the package's class-data archive (CDS on JDK 17–24, AOT cache on JDK 25+):
 * the launcher runs it with {@code DRAINGUARD_CDS=dump}, with the options it gives the control
 * commands, so that the archive holds what a real exchange with a holding agent loads. It serves a
 * representative status (terminating, holding with an operator's hold, two queue roots, three
 * probes, a forecast) from a real {@link ControlServer} on a socket in a fresh temporary directory,
 * runs {@code status}, {@code status --json}, {@code hold} and {@code release} against it through
 * {@link Main#execute} in this JVM, and {@code status} against a socket nobody serves, then stops
 * the server and deletes the directory. It touches nothing else: no IMDS, no AWS, no network, no
 * other socket. Exits 0 when every command exited as expected; otherwise 1, saying which did not.
 *
 * <p>The archive also takes the server's own classes and the logging backend its first log line
 * starts (the client starts it too, today: {@code ControlClient} asks {@code ControlServer.peer}).
 * Should the control commands stop loading Logback, note that on Java 25 every class in the AOT
 * cache is loaded at start-up: the server could then log through SLF4J's NOP provider here.
 */
public final class ArchiveTraining {

  // The commands' documented exit codes (their --help), kept here rather than borrowed from the
  // command classes, so that the training states what an operator sees.
  static final int OK = 0;
  static final int REFUSED = 1;
  static final int HOLDING = 10;
  static final int UNREACHABLE = 3;

  /**
   * Also runs a real agent in service against the built-in simulator ({@link AgentTraining}): for
   * archives whose classes load only when used (CDS on Java 17–24), not for an AOT cache, whose
   * classes all load at start-up and would slow every control command.
   */
  static final String WITH_AGENT = "--with-agent";

  private ArchiveTraining() {}

  public static void main(String[] args) {
    PrintStream realErr = System.err;
    List<String> failures;
    try {
      Path dir = Files.createTempDirectory("drainguard-training");
      try {
        failures = new ArrayList<>(train(dir));
        if (List.of(args).contains(WITH_AGENT)) {
          failures.addAll(AgentTraining.train(dir));
        }
      } finally {
        deleteTree(dir);
      }
    } catch (IOException | RuntimeException e) {
      failures = List.of("cannot train in a temporary directory: " + e);
    }
    for (String f : failures) {
      realErr.println("drainguard: archive training: " + f);
    }
    System.exit(failures.isEmpty() ? OK : REFUSED);
  }

  /** Runs the exchanges against a server in {@code dir}; what went otherwise than expected. */
  static List<String> train(Path dir) throws IOException {
    Path socket = dir.resolve("run/control.sock");
    // an operator's config names queue roots too: reading them is part of every status call
    Path config =
        Files.writeString(
            dir.resolve("drainguard.conf"),
            String.join(
                "\n",
                Setting.CONTROL_SOCKET.key() + " = " + socket,
                Setting.QUEUE_ROOT.key() + " = " + dir.resolve("queues") + ":ignore=*.idx",
                ""),
            StandardCharsets.UTF_8);
    String viaSocket = "--control-socket=" + socket;
    // The operator's usual call reads the socket from the config file; an environment variable
    // would win over the file and point elsewhere, so then the socket is named instead.
    boolean envNamesASocket = System.getenv(Setting.CONTROL_SOCKET.env()) != null;
    String[] plainStatus =
        envNamesASocket
            ? new String[] {"status", viaSocket}
            : new String[] {"status", "--config=" + config};
    List<String> failures = new ArrayList<>();
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream said = new ByteArrayOutputStream();
    System.setOut(new PrintStream(PrintStream.nullOutputStream(), true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(said, true, StandardCharsets.UTF_8));
    Clock clock = Clock.systemUTC();
    try (ControlServer server =
        ControlServer.start(socket, ControlServer.GROUP, new HoldingAgent(dir, clock), clock)) {
      expect(failures, said, HOLDING, plainStatus);
      expect(failures, said, HOLDING, "status", "--json", viaSocket);
      expect(failures, said, OK, "hold", "--reason", "archive training", viaSocket);
      // refused: data is queued and there is no --force
      expect(failures, said, REFUSED, "release", "--reason", "x", viaSocket);
      // the agent not running: what operators also see
      expect(
          failures,
          said,
          UNREACHABLE,
          "status",
          "--control-socket=" + dir.resolve("none/control.sock"));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
    return failures;
  }

  private static void expect(
      List<String> failures, ByteArrayOutputStream said, int expected, String... args) {
    said.reset();
    int code = Main.execute(args);
    if (code != expected) {
      failures.add(
          String.format(
              "'%s' exited %d, expected %d: %s",
              String.join(" ", args),
              code,
              expected,
              said.toString(StandardCharsets.UTF_8).strip()));
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /**
   * A holding agent as the control socket sees it: terminating, the action active, data queued and
   * draining, answered through the real handler interface. A hold is accepted and shown; a release
   * without force is refused while data is queued, as the controller does.
   */
  static final class HoldingAgent implements ControlHandler {

    private final Path queues;
    private final Clock clock;
    private final Instant startedAt;
    private volatile String holdReason;
    private volatile Instant holdSince;

    HoldingAgent(Path dir, Clock clock) {
      this.queues = dir.resolve("queues");
      this.clock = clock;
      this.startedAt = clock.instant().minus(Duration.ofHours(3));
    }

    @Override
    public StatusView status() {
      Instant now = clock.instant();
      return StatusView.of(drainStatus(now), Version.get(), 1, startedAt, now, 2160)
          .withCriblBuffers(List.of(queues.resolve("0") + " (queue-root " + queues + ")"));
    }

    @Override
    public ControlResult hold(Caller caller, String reason) {
      holdReason = "by " + caller.describe() + ": " + reason;
      holdSince = clock.instant();
      return new ControlResult(
          true, "holding: the lifecycle action stays open until 'drainguard release'");
    }

    @Override
    public ControlResult release(Caller caller, boolean force, String reason) {
      return force
          ? new ControlResult(true, "released by operator " + caller.describe())
          : new ControlResult(
              false,
              "refused: 6291456 bytes in 3 files are still queued; 'drainguard release --force'"
                  + " completes anyway and loses them");
    }

    private DrainStatus drainStatus(Instant now) {
      Instant noticed = now.minus(Duration.ofMinutes(4));
      Instant active = now.minus(Duration.ofMinutes(3));
      List<RootStatus> roots =
          List.of(
              new RootStatus(
                  queues.resolve("0/out-s3"),
                  3,
                  6_291_456,
                  Optional.of(Duration.ofSeconds(95)),
                  Optional.empty()),
              new RootStatus(
                  queues.resolve("0/inputs/in-syslog"), 0, 0, Optional.empty(), Optional.empty()));
      List<ProbeReading> probes =
          List.of(
              ProbeReading.known(
                  ProbeReading.FILES,
                  now,
                  List.of(
                      new QueueReading(roots.get(0).root().toString(), 6_291_456),
                      new QueueReading(roots.get(1).root().toString(), 0))),
              ProbeReading.known(
                  "cribl", now, List.of(new QueueReading("worker 0 out-s3", 6_000_000))),
              ProbeReading.unknown("command", now, "exited 2: timeout after 10s")
                  .withDeciding(false));
      Forecast forecast =
          new Forecast(
              now,
              OptionalLong.of(6_291_456),
              OptionalDouble.of(52_428.8),
              Optional.of(Duration.ofSeconds(120)),
              OptionalLong.of(0),
              Optional.of(Duration.ofSeconds(2)),
              false);
      return new DrainStatus(
          now,
          Phase.HOLDING,
          TargetLifecycleState.TERMINATED,
          new LifecycleHookRef("workers", "hold-queues", "i-0123456789abcdef0"),
          new TerminationHook(
              "hold-queues", Duration.ofHours(1), Duration.ofHours(48), LifecycleResult.ABANDON),
          DeadlinePolicy.RETAIN,
          new QueueSnapshot(now, roots, probes, false),
          Optional.empty(),
          9,
          Optional.of(now.minus(Duration.ofSeconds(20))),
          Optional.of(now.plus(Duration.ofMinutes(19))),
          Optional.of(noticed),
          Optional.of(active),
          Optional.of(noticed.plus(Duration.ofHours(47))),
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          0,
          Optional.ofNullable(holdReason),
          Optional.ofNullable(holdSince),
          false,
          Optional.empty(),
          true,
          Optional.of(startedAt),
          Optional.empty(),
          Optional.empty(),
          List.of(),
          forecast,
          Optional.empty(),
          noticed);
    }
  }
}
