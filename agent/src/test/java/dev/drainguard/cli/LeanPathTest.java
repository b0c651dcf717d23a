package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drainguard.drain.ControlResult;
import dev.drainguard.operator.Caller;
import dev.drainguard.status.ControlHandler;
import dev.drainguard.status.ControlServer;
import dev.drainguard.status.StatusView;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lean path ({@link Main#execute(String[])} without picocli) and the picocli path give the same
 * stdout, stderr and exit code, against a real {@link ControlServer} on a temporary Unix socket.
 * Guards against the lean parser reading an option otherwise than picocli does.
 */
class LeanPathTest {

  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  ControlServer server;
  volatile StatusView view;

  final ControlHandler handler =
      new ControlHandler() {
        @Override
        public StatusView status() {
          return view;
        }

        @Override
        public ControlResult hold(Caller caller, String reason) {
          return new ControlResult(true, "holding: " + reason + " (asked by " + caller + ")");
        }

        @Override
        public ControlResult release(Caller caller, boolean force, String reason) {
          return force
              ? new ControlResult(true, "completed: CONTINUE sent, 4096 queued bytes lost")
              : new ControlResult(false, "refused: 4096 bytes in 1 files are still queued");
        }
      };

  Path socket() {
    return dir.resolve("run/control.sock");
  }

  @BeforeEach
  void start() throws IOException {
    view = view("HOLDING", null);
    server = ControlServer.start(socket(), handler);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  /** A full view as an agent reports it, with {@code phase} and {@code hookProblem}. */
  static StatusView view(String phase, String hookProblem) throws IOException {
    String json =
        """
        {"version":"1.2.3","pid":4242,"startedAt":"2026-12-07T05:00:00Z","uptimeSeconds":125,
         "evaluatedAt":"2026-12-07T05:02:05Z","phase":"%s","targetLifecycleState":"TERMINATED",
         "group":"workers","hook":"hold-queues","instance":"i-0123456789abcdef0",
         "hookHeartbeatTimeoutSeconds":3600,"hookGlobalTimeoutSeconds":172800,
         "hookDefaultResult":"ABANDON","hookReadAt":"2026-12-07T05:00:01Z",%s
         "deadlinePolicy":"retain","heartbeats":3,"lastHeartbeat":"2026-12-07T05:01:00Z",
         "nextHeartbeat":"2026-12-07T05:21:00Z","noticedAt":"2026-12-07T05:00:30Z",
         "actionActiveSince":"2026-12-07T05:00:40Z","heldSeconds":85,
         "deadline":"2026-12-09T04:50:00Z","deadlineInSeconds":171475,
         "holdReason":"déjà vu \\"quoted\\"\\tand\\u0001ctl","holdSince":"2026-12-07T05:01:30Z",
         "releaseRequested":false,"scaleInProtected":true,"eventCommands":["echo 1","echo 2"],
         "queues":{"empty":false,"totalBytes":4096,"totalFiles":1,
          "roots":[{"path":"/opt/cribl/state/queues","files":1,"bytes":4096,"oldestAgeSeconds":60}],
          "probes":[{"name":"files","deciding":true,"empty":false,"bytes":4096,
           "readAt":"2026-12-07T05:02:04Z","queues":[{"name":"0/out","bytes":4096}]}],
          "drainRateBytesPerSecond":0.1,"emptyInSeconds":1.0E10,"forecastBytesAtRisk":0,
          "forecast":"draining 0.1 B/s","atRisk":false,"stalled":false},
         "decisionWakeups":17,"criblBuffers":["/opt/cribl/state/queues (ü)"]}
        """
            .formatted(
                phase, hookProblem == null ? "" : "\"hookProblem\":\"" + hookProblem + "\",");
    return JSON.readValue(json, StatusView.class);
  }

  record Run(int code, String out, String err) {}

  /** Both paths with {@code args}; the lean path must be the one Main.execute takes. */
  Run same(String... args) {
    assertThat(LeanArgs.parse(args)).as("lean path for %s", List.of(args)).isPresent();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
    Run lean = new Run(code, out.toString(), err.toString());
    MainTest.Run picocli = MainTest.execute(DrainguardCommand.commandLine(), args);
    assertThat(lean)
        .as("%s", List.of(args))
        .isEqualTo(new Run(picocli.code(), picocli.out(), picocli.err()));
    return lean;
  }

  String[] with(String... args) {
    return Stream.concat(Stream.of(args), Stream.of("--control-socket", socket().toString()))
        .toArray(String[]::new);
  }

  @Test
  void status_inEachPhase_sameOutputAndExitCode() throws IOException {
    Object[][] phases = {
      {"IN_SERVICE", null, 0},
      {"AWAITING_ACTION", null, 10},
      {"HOLDING", null, 10},
      {"DRAINED", null, 10},
      {"RETAINED", null, 10},
      {"COMPLETED", null, 11},
      {"LOST", null, 11},
      {"EXPIRED", null, 11},
      {"IN_SERVICE", "no termination hook on group workers", 12}
    };
    for (Object[] p : phases) {
      view = view((String) p[0], (String) p[1]);
      for (String[] args :
          List.of(
              with("status"),
              with("status", "--json"),
              with("status", "--json=true"),
              with("status", "--json", "false"),
              with("status", "--json", "TRUE"),
              with("status", "--json=False", "--watch=false"),
              with("status", "--watch", "false", "--json"))) {
        assertThat(same(args).code()).as("%s", p[0]).isEqualTo(p[2]);
      }
    }
    Run json = same(with("status", "--json"));
    assertThat(json.out()).isEqualTo(view.toJson() + System.lineSeparator());
  }

  @Test
  void holdAndRelease_okAndRefused_sameOutputAndExitCode() {
    assertThat(same(with("hold")).code()).isZero();
    assertThat(same(with("hold", "--reason", "destination down")).out())
        .contains("destination down");
    assertThat(same(with("hold", "--reason=ünïcode \"q\"")).code()).isZero();
    assertThat(same(with("release")).code()).isEqualTo(1);
    assertThat(same(with("release", "--reason", "fixed", "--force", "false")).code()).isEqualTo(1);
    assertThat(same(with("release", "--force")).code()).isZero();
    assertThat(same(with("release", "--force=TRUE", "--reason=x")).code()).isZero();
    assertThat(same(with("release", "--force", "true", "--reason", "y")).out()).contains("lost");
    // values that look like something else to a parser: a subcommand's name, a boolean, '='
    for (String reason : List.of("help", "status", "run", "true", " spaced ", "a=b", "x@y")) {
      assertThat(same(with("hold", "--reason", reason)).out()).contains("holding: " + reason);
      same(with("release", "--reason=" + reason));
    }
  }

  @Test
  void controlSocketForms_andConfigFileRules_sameOutputAndExitCode() throws IOException {
    same("status", "--control-socket=" + socket());
    same("hold", "--reason", "r", "--control-socket=" + socket());
    Path missing = dir.resolve("none/control.sock");
    assertThat(same("status", "--control-socket", missing.toString()).code()).isEqualTo(3);
    assertThat(same("release", "--force", "--control-socket", missing.toString()).code())
        .isEqualTo(3);

    Path conf = Files.writeString(dir.resolve("a.conf"), "control-socket = " + socket() + "\n");
    assertThat(same("status", "--config", conf.toString(), "--json").code()).isEqualTo(10);
    assertThat(same("hold", "--config=" + conf).code()).isZero();
    Path elsewhere = Files.writeString(dir.resolve("b.conf"), "control-socket = " + missing + "\n");
    assertThat(same("status", "--config", elsewhere.toString()).code()).isEqualTo(3);
    // the flag wins: the file is not read at all, so even a broken one does not matter
    Path broken = Files.writeString(dir.resolve("c.conf"), "no-such-key = 1\n");
    assertThat(same(with("status", "--config", broken.toString())).code()).isEqualTo(10);
    // a file the operator named must load: exit 78 with the loader's message
    assertThat(same("status", "--config", broken.toString()).code()).isEqualTo(78);
    assertThat(same("status", "--config", dir.resolve("absent.conf").toString()).code())
        .isEqualTo(78);
    Path relative = Files.writeString(dir.resolve("d.conf"), "control-socket = run/x.sock\n");
    assertThat(same("hold", "--config", relative.toString()).code()).isEqualTo(78);
  }

  @Test
  void executeWithoutWriters_printsToSystemOutAndErr_asPicocliDoes() {
    String[] args = with("release", "--reason", "ü");
    Run lean = captured(() -> Main.execute(args));
    Run picocli = captured(() -> DrainguardCommand.commandLine().execute(args));
    assertThat(lean).isEqualTo(picocli);
    assertThat(lean.err()).contains("refused: 4096 bytes");
    Run leanOk = captured(() -> Main.execute(with("status", "--json")));
    assertThat(leanOk)
        .isEqualTo(
            captured(() -> DrainguardCommand.commandLine().execute(with("status", "--json"))));
  }

  // run as systemd starts it (settings in the environment or the config file) takes the lean path;
  // what it does from there is the picocli path's, to the message and the exit code. Here both are
  // refused at start: the test JVM is loopback-only and no IMDS endpoint is set.
  @Test
  void run_bareOrWithAConfigFile_isLean_andEndsAsThePicocliPathDoes() throws IOException {
    Path config = Files.writeString(dir.resolve("run.conf"), "log-level = warn\n");
    List<String[]> forms =
        List.of(
            new String[] {"run"},
            new String[] {"run", "--config", config.toString()},
            new String[] {"run", "--config=" + config},
            new String[] {"run", "--config=" + dir.resolve("missing.conf")});
    for (String[] args : forms) {
      assertThat(LeanArgs.parse(args)).as("%s", List.of(args)).isPresent();
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
      MainTest.Run picocli = MainTest.execute(DrainguardCommand.commandLine(), args);
      assertThat(code).as("%s: %s", List.of(args), err).isEqualTo(ExitCodes.CONFIG);
      assertThat(new Run(code, out.toString(), err.toString()))
          .as("%s", List.of(args))
          .isEqualTo(new Run(picocli.code(), picocli.out(), picocli.err()));
    }
  }

  @Test
  void whatTheLeanParserDoesNotReadExactly_goesToPicocli() {
    List<String[]> others = new ArrayList<>();
    others.add(new String[] {});
    others.add(new String[] {"run", "--queue-root", dir.toString()});
    others.add(new String[] {"run", "--loopback-only"});
    others.add(new String[] {"run", "--help"});
    others.add(new String[] {"run", "--config", "a", "--config", "b"});
    others.add(new String[] {"-V"});
    others.add(new String[] {"help", "status"});
    for (String cmd : List.of("status", "hold", "release")) {
      others.add(new String[] {cmd, "--help"});
      others.add(new String[] {cmd, "-h"});
      others.add(new String[] {cmd, "-V"});
      others.add(new String[] {cmd, "--bogus"});
      others.add(new String[] {cmd, "extra"});
      others.add(new String[] {cmd, "--"});
      others.add(new String[] {cmd, "@" + dir.resolve("args")});
      others.add(new String[] {cmd, "--control-socket"});
      others.add(new String[] {cmd, "--control-socket", "-x"});
      others.add(new String[] {cmd, "--control-socket="});
      others.add(new String[] {cmd, "--config", "a", "--config", "b"});
    }
    others.add(new String[] {"status", "--json", "--json"});
    others.add(new String[] {"status", "--json=maybe"});
    others.add(new String[] {"status", "--json", "maybe"});
    others.add(new String[] {"status", "--reason", "x"});
    others.add(new String[] {"hold", "--force"});
    others.add(new String[] {"hold", "--json"});
    others.add(new String[] {"release", "--reason"});
    others.add(new String[] {"release", "--reason", "--force"});
    others.add(new String[] {"release", "--force", "--force"});
    others.add(new String[] {"STATUS"});
    for (String[] args : others) {
      assertThat(LeanArgs.parse(args)).as("%s", List.of(args)).isEmpty();
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
      MainTest.Run picocli = MainTest.execute(DrainguardCommand.commandLine(), args);
      assertThat(new Run(code, out.toString(), err.toString()))
          .as("%s", List.of(args))
          .isEqualTo(new Run(picocli.code(), picocli.out(), picocli.err()));
    }
  }

  interface Call {
    int run();
  }

  /** Runs {@code call} with System.out and System.err captured. */
  static Run captured(Call call) {
    PrintStream out0 = System.out;
    PrintStream err0 = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int code = call.run();
      return new Run(
          code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out0);
      System.setErr(err0);
    }
  }
}
