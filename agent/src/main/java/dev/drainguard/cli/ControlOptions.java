package dev.drainguard.cli;

import dev.drainguard.config.ConfigException;
import dev.drainguard.config.ConfigLoader;
import dev.drainguard.config.Setting;
import dev.drainguard.operator.OperatorText;
import dev.drainguard.status.ControlClient;
import dev.drainguard.status.ControlProtocol;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * The options every client of the control socket shares, and the one way they reach the agent. The
 * socket is {@code --control-socket}, else {@code DRAINGUARD_CONTROL_SOCKET}, else the config
 * file's {@code control-socket}, else the default, exactly as the agent resolves it.
 */
final class ControlOptions {

  /** Exit code when the agent cannot be reached. */
  static final int UNREACHABLE = 3;

  /** Exit code when the socket answers, but not as the agent: nothing was sent. */
  static final int UNTRUSTED = 4;

  /** Exit code when this user may not use the socket (sysexits EX_NOPERM). */
  static final int NOT_PERMITTED = 77;

  @Option(
      names = "--control-socket",
      paramLabel = "PATH",
      description = "The agent's control socket. Default: as the agent's configuration says.")
  String controlSocket;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "Config file to read control-socket from. Default: as for 'drainguard run'.")
  Path config;

  /**
   * The socket: the flag or the environment when given (no file is read then); else the config
   * file's value. A config file named with --config or DRAINGUARD_CONFIG must load (else exit 78);
   * a problem in the default file does not stop a status query: the reason is printed and the
   * default socket is asked.
   */
  Path socket(PrintWriter err) {
    if (controlSocket != null) {
      return Path.of(controlSocket);
    }
    String env = System.getenv(Setting.CONTROL_SOCKET.env());
    if (env != null && !env.isBlank()) {
      return Path.of(env.strip());
    }
    ConfigLoader loader = new ConfigLoader(Map.of(), System.getenv(), Optional.ofNullable(config));
    String named = System.getenv(ConfigLoader.CONFIG_ENV);
    if (config != null || (named != null && !named.isBlank())) {
      return loader.load().controlSocket(); // a file the operator named must load: exit 78
    }
    try {
      return loader.load().controlSocket();
    } catch (ConfigException e) {
      Path fallback = Path.of(Setting.CONTROL_SOCKET.defaultValue());
      err.println(
          "drainguard: warning: "
              + e.getMessage()
              + "; asking the default control socket "
              + fallback);
      return fallback;
    }
  }

  /**
   * Sends {@code request}. The reply, or the exit code after the reason was printed: {@link
   * #UNREACHABLE}, {@link #UNTRUSTED} or {@link #NOT_PERMITTED}.
   */
  Answer send(ControlProtocol.Request request, PrintWriter err) {
    Path socket = socket(err);
    try {
      return new Answer(
          Optional.of(
              new ControlClient(socket, ControlClient.REPLY_TIMEOUT, ThreadSleeper.INSTANCE)
                  .send(request)),
          0);
    } catch (ControlClient.NotPermittedException e) {
      return failed(err, e.getMessage(), NOT_PERMITTED);
    } catch (ControlClient.UntrustedException e) {
      return failed(err, e.getMessage(), UNTRUSTED);
    } catch (ControlClient.UnreachableException e) {
      return failed(
          err,
          e.getMessage() + "; is the agent running? See 'systemctl status drainguard'",
          UNREACHABLE);
    }
  }

  private static Answer failed(PrintWriter err, String message, int code) {
    err.println("drainguard: " + OperatorText.clean(message, 2000));
    err.flush();
    return new Answer(Optional.empty(), code);
  }

  /** The agent's reply, or the exit code that says why there is none. */
  record Answer(Optional<ControlProtocol.Reply> reply, int exitCode) {}
}
