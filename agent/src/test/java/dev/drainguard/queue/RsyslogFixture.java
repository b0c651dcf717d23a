package dev.drainguard.queue;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * A real rsyslogd (Debian's package, unpacked under {@code target/rsyslog}, see {@link
 * RsyslogPackage}) that receives syslog over TCP on 127.0.0.1 and forwards it with omfwd through a
 * disk queue to a {@link LineReceiver} the test takes down and brings up. Configured as {@code
 * probes/README.md} tells operators to configure theirs. If the package cannot be fetched or the
 * daemon cannot run, {@link #start} skips the calling test and says why.
 *
 * <pre>{@code
 * try (RsyslogFixture rsyslog = RsyslogFixture.start(dir)) {
 *   rsyslog.send(100);                       // receiver is down: data waits in the disk queue
 *   String cmd = rsyslog.probeCommand();     // for --queue-probe-command
 *   rsyslog.receiverUp();                    // rsyslog retries within ~1 s and drains
 * }
 * }</pre>
 */
public final class RsyslogFixture implements AutoCloseable {

  /** queue.filename of the forwarding action's disk queue. */
  public static final String QUEUE = "fwdq";

  /**
   * The disk queue's settings that matter to the probe.
   *
   * @param checkpointEveryUpdate queue.checkpointInterval="1": the .qi is rewritten after every
   *     enqueue and every processed batch; without it rsyslog writes the .qi only at shutdown and
   *     when it moves to another data file
   * @param syncQueueFiles queue.syncQueueFiles="on": fsync after each write (crash safety; the
   *     probe does not need it)
   * @param maxFileSize queue.maxFileSize, or null for rsyslog's default (1 MB)
   */
  public record QueueSettings(
      boolean checkpointEveryUpdate, boolean syncQueueFiles, String maxFileSize) {
    /**
     * probes/README.md's settings, with small data files (~10 short messages each) so that a test's
     * backlog spans many files and rsyslog moves on and deletes finished files while the probe
     * reads.
     */
    public static final QueueSettings README = new QueueSettings(true, true, "4k");

    /** The probe's one requirement without the README's fsync (for high message rates). */
    public static final QueueSettings CHECKPOINT_WITHOUT_SYNC =
        new QueueSettings(true, false, "4k");

    /** What a user gets by setting only queue.type and queue.filename. */
    public static final QueueSettings RSYSLOG_DEFAULTS = new QueueSettings(false, false, null);
  }

  private static final Pattern QUEUE_SIZE = Pattern.compile("\\+iQueueSize:2:\\d+:(\\d+):");

  /** Bound for rsyslogd to start listening, and to stop. */
  static final Duration DAEMON_WAIT = Duration.ofSeconds(20);

  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  private final Path workDir;
  private final Path spool;
  private final Process daemon;
  private final int inputPort;
  private final LineReceiver receiver;
  private final AtomicLong nextSeq = new AtomicLong(1);

  private RsyslogFixture(
      Path workDir, Path spool, Process daemon, int inputPort, LineReceiver receiver) {
    this.workDir = workDir;
    this.spool = spool;
    this.daemon = daemon;
    this.inputPort = inputPort;
    this.receiver = receiver;
  }

  /** The unpacked rsyslog, or the calling test is skipped with the reason. */
  static RsyslogPackage.Unpacked rsyslogOrSkip() {
    try {
      return RsyslogPackage.obtain(Path.of("target", "rsyslog"));
    } catch (RsyslogPackage.UnavailableException e) {
      String reason = "rsyslog is not available, test skipped: " + e.getMessage();
      System.err.println(reason); // visible in the build log, not only in the report
      Assumptions.assumeTrue(false, reason);
      throw new AssertionError("unreachable");
    }
  }

  /** Starts rsyslogd with its state under {@code workDir} (emptied first) and the receiver down. */
  public static RsyslogFixture start(Path workDir) throws IOException {
    return start(workDir, QueueSettings.README);
  }

  public static RsyslogFixture start(Path workDir, QueueSettings settings) throws IOException {
    RsyslogPackage.Unpacked rsyslog = rsyslogOrSkip();
    workDir = workDir.toAbsolutePath();
    RsyslogPackage.deleteTree(workDir);
    Path work = Files.createDirectories(workDir.resolve("work"));
    Path spool = Files.createDirectories(workDir.resolve("spool"));
    Path portFile = workDir.resolve("imtcp.port");
    LineReceiver receiver = LineReceiver.onFreePort();
    Path conf = workDir.resolve("rsyslog.conf");
    Files.writeString(conf, config(work, spool, portFile, receiver.port(), settings));

    Path log = workDir.resolve("rsyslogd.log");
    checkConfig(rsyslog, conf, workDir.resolve("rsyslogd-N1.log"));
    ProcessBuilder pb =
        new ProcessBuilder(
                rsyslog.rsyslogd().toString(),
                "-n",
                "-f",
                conf.toString(),
                "-i",
                workDir.resolve("rsyslogd.pid").toString(),
                "-M",
                rsyslog.moduleDir().toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment().putAll(rsyslog.env());
    Process daemon = pb.start();
    try {
      await("rsyslogd listening (" + log + ")")
          .atMost(DAEMON_WAIT)
          .pollInterval(Duration.ofMillis(20))
          .until(() -> !daemon.isAlive() || (Files.exists(portFile) && Files.size(portFile) > 0));
      if (!daemon.isAlive()) {
        throw new AssertionError(
            "rsyslogd exited " + daemon.exitValue() + " at start: " + Files.readString(log));
      }
      int port = Integer.parseInt(Files.readString(portFile).strip());
      System.err.printf(
          "rsyslog fixture: %s, input 127.0.0.1:%d, forwarding to 127.0.0.1:%d%n",
          rsyslog.version(), port, receiver.port());
      return new RsyslogFixture(workDir, spool, daemon, port, receiver);
    } catch (RuntimeException | Error e) {
      daemon.destroyForcibly();
      throw e;
    }
  }

  /** rsyslogd -N1: a misspelt parameter is only a warning at start, here it fails the test. */
  private static void checkConfig(RsyslogPackage.Unpacked rsyslog, Path conf, Path log)
      throws IOException {
    ProcessBuilder pb =
        new ProcessBuilder(
                rsyslog.rsyslogd().toString(),
                "-N1",
                "-f",
                conf.toString(),
                "-M",
                rsyslog.moduleDir().toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment().putAll(rsyslog.env());
    Process p = pb.start();
    try {
      if (!p.waitFor(DAEMON_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("rsyslogd -N1 did not finish within " + DAEMON_WAIT);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted checking the rsyslog configuration", e);
    }
    String out = Files.readString(log);
    if (p.exitValue() != 0 || out.contains("error") || out.contains("warning")) {
      throw new AssertionError("rsyslogd -N1 rejects " + conf + ": " + out);
    }
  }

  /**
   * The configuration probes/README.md documents: a disk queue (everything is on disk, nothing in
   * memory where a file probe cannot see it) whose .qi is rewritten after every update
   * (checkpointInterval 1) so the probe reads the current state, and an action that retries for
   * ever instead of dropping messages while the receiver is down.
   */
  static String config(
      Path work, Path spool, Path portFile, int receiverPort, QueueSettings settings) {
    String checkpoint = settings.checkpointEveryUpdate() ? " queue.checkpointInterval=\"1\"" : "";
    String sync = settings.syncQueueFiles() ? " queue.syncQueueFiles=\"on\"" : "";
    String fileSize =
        settings.maxFileSize() == null
            ? ""
            : " queue.maxFileSize=\"" + settings.maxFileSize() + "\"";
    return String.join(
        "\n",
        "global(workDirectory=\"" + work + "\")",
        "module(load=\"imtcp\")",
        "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"0\" listenPortFileName=\""
            + portFile
            + "\" ruleset=\"forward\")",
        "ruleset(name=\"forward\") {",
        "  action(type=\"omfwd\" name=\"forward\" target=\"127.0.0.1\" port=\""
            + receiverPort
            + "\" protocol=\"tcp\"",
        "         queue.type=\"Disk\" queue.filename=\"" + QUEUE + "\"",
        "         queue.spoolDirectory=\"" + spool + "\"",
        "        " + checkpoint + sync + fileSize,
        "         action.resumeRetryCount=\"-1\" action.resumeInterval=\"1\")",
        "}",
        "");
  }

  /** Takes the receiver down: rsyslog's connects are refused and its queue grows. */
  public void receiverDown() {
    receiver.down();
  }

  /** Brings the receiver up on the same port; rsyslog reconnects at its next retry. */
  public void receiverUp() {
    receiver.up();
  }

  /** Sends {@code n} messages (each with a new {@code seq=N}) to rsyslog's TCP input. */
  public void send(int n) {
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < n; i++) {
      lines
          .append("<13>Dec  2 01:50:00 drainguard-test app: seq=")
          .append(nextSeq.getAndIncrement())
          .append('\n');
    }
    try (Socket s = new Socket(LOOPBACK, inputPort);
        OutputStream out = s.getOutputStream()) {
      out.write(lines.toString().getBytes(StandardCharsets.US_ASCII));
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("sending " + n + " messages to rsyslog on " + inputPort, e);
    }
  }

  /** The queue's spool directory (queue.spoolDirectory). */
  public Path queueDir() {
    return spool;
  }

  /**
   * Messages in the disk queue as the .qi says (iQueueSize; processed batches are subtracted), or
   * -1 when there is no .qi.
   */
  public long queuedMessages() throws IOException {
    Path qi = spool.resolve(QUEUE + ".qi");
    try {
      Matcher m = QUEUE_SIZE.matcher(Files.readString(qi, StandardCharsets.US_ASCII));
      return m.find() ? Long.parseLong(m.group(1)) : -1;
    } catch (NoSuchFileException e) {
      return -1;
    }
  }

  /** The probe as an argument vector. */
  public List<String> probeArgv() {
    return List.of(ProbeScripts.script("rsyslog-queue-bytes").toString(), spool.toString(), QUEUE);
  }

  /** The full command line for {@code --queue-probe-command} (run with /bin/sh -c). */
  public String probeCommand() {
    return ProbeScripts.shellLine(probeArgv());
  }

  /** Runs the probe once. */
  public ProbeScripts.Result probe() {
    return ProbeScripts.run(probeArgv());
  }

  /** Distinct messages that reached the receiver (rsyslog may deliver one twice). */
  public int received() {
    return receiver.distinct();
  }

  /** Lines that reached the receiver, duplicates included. */
  public long receivedLines() {
    return receiver.lines();
  }

  /** {@link System#nanoTime()} when the receiver last got a message it had not seen. */
  public long lastReceivedAtNanos() {
    return receiver.lastNewAtNanos();
  }

  /** rsyslogd's own output (its errors, e.g. "cannot connect"). */
  public Path log() {
    return workDir.resolve("rsyslogd.log");
  }

  @Override
  public void close() {
    receiver.close();
    daemon.destroy(); // SIGTERM: rsyslogd persists its queue and exits
    try {
      if (!daemon.waitFor(DAEMON_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
        daemon.destroyForcibly();
        daemon.waitFor(DAEMON_WAIT.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      daemon.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
