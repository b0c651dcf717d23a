package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.drainguard.drain.ControlResult;
import dev.drainguard.operator.Caller;
import dev.drainguard.status.ControlHandler;
import dev.drainguard.status.ControlServer;
import dev.drainguard.status.StatusView;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lean path in a child JVM, as the launcher starts it: what it loads, and what it does with the
 * environment (which a test cannot change in its own JVM), beside the picocli path ({@link
 * PicocliOnly}) in the same environment.
 */
class LeanProcessTest {

  /** Packages the lean path must not load: each costs tens of milliseconds of start-up. */
  static final List<String> HEAVY =
      List.of(
          "picocli.",
          "com.fasterxml.jackson.",
          "ch.qos.logback.",
          "org.slf4j.",
          "software.amazon.",
          "io.micrometer.");

  @TempDir Path dir;
  ControlServer server;

  @BeforeEach
  void start() throws IOException {
    StatusView view = LeanPathTest.view("HOLDING", null);
    server =
        ControlServer.start(
            socket(),
            new ControlHandler() {
              @Override
              public StatusView status() {
                return view;
              }

              @Override
              public ControlResult hold(Caller caller, String reason) {
                return new ControlResult(true, "holding: " + reason);
              }

              @Override
              public ControlResult release(Caller caller, boolean force, String reason) {
                return new ControlResult(false, "refused: 4096 bytes are still queued");
              }
            });
  }

  @AfterEach
  void stop() {
    server.close();
  }

  Path socket() {
    return dir.resolve("run/control.sock");
  }

  record Run(int code, String out, String err) {}

  /** {@code main} run in a child JVM with {@code env} added and {@code jvm} options. */
  Run java(Class<?> main, Map<String, String> env, List<String> jvm, String... args)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Duser.home=" + dir));
    cmd.addAll(jvm);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.startsWith("DRAINGUARD_"));
    pb.environment().putAll(env);
    Path out = dir.resolve("out-" + System.nanoTime());
    Path err = dir.resolve("err-" + System.nanoTime());
    Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("child JVM %s ended", cmd).isTrue();
    return new Run(
        p.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  /** The lean path and the picocli path in the same environment: the same result. */
  Run same(Map<String, String> env, String... args) throws IOException, InterruptedException {
    Run lean = java(Main.class, env, List.of(), args);
    assertThat(lean)
        .as("%s %s", env, List.of(args))
        .isEqualTo(java(PicocliOnly.class, env, List.of(), args));
    return lean;
  }

  @Test
  void statusAgainstARealServer_loadsNoPicocliJacksonLoggingSdkOrMicrometer() throws Exception {
    Path conf = Files.writeString(dir.resolve("a.conf"), "control-socket = " + socket() + "\n");
    for (List<String> args :
        List.of(
            List.of("status", "--control-socket", socket().toString()),
            List.of("status", "--json", "--config", conf.toString()),
            List.of("hold", "--reason", "r", "--control-socket=" + socket()),
            List.of("release", "--config", conf.toString()))) {
      Run r =
          java(
              Main.class,
              Map.of(),
              List.of("-Xlog:class+load=info:stderr"),
              args.toArray(String[]::new));
      assertThat(r.code()).as("%s: %s", args, r.err()).isIn(0, 1, 10);
      assertThat(r.out() + r.err()).contains("dev.drainguard.status.ControlClient ");
      List<String> heavy =
          r.err()
              .lines()
              .filter(l -> l.contains("class,load"))
              .filter(l -> HEAVY.stream().anyMatch(h -> l.contains("] " + h)))
              .toList();
      assertThat(heavy).as("classes %s loaded", args).isEmpty();
    }
  }

  @Test
  void environment_controlSocketAndConfig_sameOnBothPaths() throws Exception {
    String sock = socket().toString();
    assertThat(same(Map.of("DRAINGUARD_CONTROL_SOCKET", sock), "status", "--json").code())
        .isEqualTo(10);
    // the environment's socket is used without reading any file, even a broken one named
    Path broken = Files.writeString(dir.resolve("broken.conf"), "no-such-key = 1\n");
    assertThat(
            same(
                    Map.of(
                        "DRAINGUARD_CONTROL_SOCKET",
                        " " + sock + " ",
                        "DRAINGUARD_CONFIG",
                        broken.toString()),
                    "hold")
                .code())
        .isZero();
    // a file named by DRAINGUARD_CONFIG must load
    Run named = same(Map.of("DRAINGUARD_CONFIG", broken.toString()), "status");
    assertThat(named.code()).isEqualTo(78);
    Path conf = Files.writeString(dir.resolve("a.conf"), "control-socket = " + sock + "\n");
    assertThat(same(Map.of("DRAINGUARD_CONFIG", conf.toString()), "release").code()).isEqualTo(1);
    // a bad setting elsewhere in the environment makes the named file's load fail too
    assertThat(
            same(
                    Map.of("DRAINGUARD_CONFIG", conf.toString(), "DRAINGUARD_QUIET_PERIOD", "soon"),
                    "status")
                .code())
        .isEqualTo(78);
  }

  @Test
  void aSocketServedByAnotherUser_isNotBelieved_exit4_onBothPaths() throws Exception {
    Path python = Path.of("/usr/bin/python3");
    Path setpriv = Path.of("/usr/bin/setpriv");
    assumeTrue(
        "root".equals(System.getProperty("user.name"))
            && Files.isExecutable(python)
            && Files.isExecutable(setpriv),
        "needs root, setpriv and python3 to serve a socket as another user");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
    Path run = Files.createDirectories(dir.resolve("other"));
    Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxrwxrwx"));
    Path sock = run.resolve("control.sock");
    Process impostor =
        new ProcessBuilder(
                setpriv.toString(),
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                python.toString(),
                "-c",
                "import socket,sys\n"
                    + "s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8)\n"
                    + "print('ready', flush=True)\n"
                    + "while True:\n  c,_=s.accept(); c.close()\n",
                sock.toString())
            .redirectErrorStream(true)
            .start();
    try {
      String first =
          new BufferedReader(new InputStreamReader(impostor.getInputStream())).readLine();
      assertThat(first).isEqualTo("ready");
      Run r = same(Map.of("DRAINGUARD_CONTROL_SOCKET", sock.toString()), "release", "--force");
      assertThat(r.code()).isEqualTo(4);
      assertThat(r.err()).contains("served by nobody").contains("nothing was sent");
      assertThat(same(Map.of(), "status", "--control-socket", sock.toString()).code()).isEqualTo(4);
    } finally {
      impostor.destroyForcibly();
      impostor.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** The picocli path alone, as Main ran every command before the lean path. */
  static final class PicocliOnly {
    public static void main(String[] args) {
      System.exit(DrainguardCommand.commandLine().execute(args));
    }
  }
}
