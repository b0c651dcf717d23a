package dev.drainguard.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The command probe runs real shell commands: what each kind of answer reads as. */
class CommandProbeTest {

  static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-02T00:00:00Z"), ZoneOffset.UTC);

  static ProbeReading read(String command) {
    return new CommandProbe(command, Duration.ofSeconds(10), CLOCK).read();
  }

  @Test
  void oneInteger_isTheBytesQueued() {
    ProbeReading r = read("echo 4096");
    assertThat(r.unknown()).isEmpty();
    assertThat(r.bytes()).isEqualTo(4096);
    assertThat(r.empty()).isFalse();
    assertThat(r.queues()).containsExactly(new QueueReading("total", 4096));
  }

  @Test
  void zero_isEmpty() {
    ProbeReading r = read("printf '0\\n'");
    assertThat(r.unknown()).isEmpty();
    assertThat(r.empty()).isTrue();
  }

  @Test
  void theJsonForm_namesEachQueue() {
    ProbeReading r =
        read("echo '{\"queues\":[{\"name\":\"fwd\",\"bytes\":10},{\"name\":\"s3\",\"bytes\":0}]}'");
    assertThat(r.unknown()).isEmpty();
    assertThat(r.queues()).containsExactly(new QueueReading("fwd", 10), new QueueReading("s3", 0));
    assertThat(r.bytes()).isEqualTo(10);
    assertThat(r.empty()).isFalse();
  }

  @Test
  void theJsonForm_everyQueueAtZero_isEmpty() {
    ProbeReading r = read("echo '{\"queues\":[{\"name\":\"fwd\",\"bytes\":0}]}'");
    assertThat(r.empty()).isTrue();
  }

  @Test
  void aNonZeroExit_isUnknown_quotingStderr() {
    ProbeReading r = read("echo 0; echo 'cannot open /var/spool/rsyslog/fwdq.qi' >&2; exit 3");
    assertThat(r.empty()).isFalse();
    assertThat(r.unknown())
        .contains("probe command exited 3, stderr: cannot open /var/spool/rsyslog/fwdq.qi");
  }

  @Test
  void aCommandPastItsTimeout_isKilled_andUnknown() {
    long started = System.nanoTime();
    ProbeReading r = new CommandProbe("sleep 30; echo 0", Duration.ofSeconds(1), CLOCK).read();
    assertThat(r.empty()).isFalse();
    // the shell may report its killed child on stderr ("Killed"), which is then quoted
    assertThat(r.unknown().orElseThrow()).startsWith("probe command killed at its timeout PT1S");
    // killed, not waited for: far less than the 30 s it would have slept
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(20));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "echo",
        "echo 12 bytes",
        "echo -5",
        "echo 1.5",
        "echo '{\"queues\":{}}'",
        "echo '{\"queues\":[{\"bytes\":1}]}'",
        "echo '{\"queues\":[{\"name\":\"q\",\"bytes\":-1}]}'",
        "echo '{\"queues\":[{\"name\":\"q\",\"bytes\":\"7\"}]}'",
        "echo '{\"queues\":[{\"name\":\"q\",\"bytes\":1.5}]}'"
      })
  void outputOfNeitherForm_isUnknown(String command) {
    ProbeReading r = read(command);
    assertThat(r.empty()).isFalse();
    assertThat(r.unknown()).isPresent();
    assertThat(r.unknown().get()).startsWith("probe command ");
  }

  @Test
  void aCommandThatCannotRun_isUnknown() {
    ProbeReading r = read("/nonexistent/probe");
    assertThat(r.unknown().orElseThrow()).startsWith("probe command exited 127");
  }

  /**
   * Issue 13, reproduction 5: Jackson's readTree stops after the first value, so an answer followed
   * by an error line, or by a second answer, read as that first answer (empty here).
   */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "echo '{\"queues\":[{\"name\":\"fwdq\",\"bytes\":0}]}'; echo 'ERROR: archiveq not counted'",
        "echo '{\"queues\":[{\"name\":\"fwdq\",\"bytes\":0}]}'; echo '{\"queues\":[{\"name\":\"fwdq\",\"bytes\":4096}]}'",
        "echo '{\"queues\":[{\"name\":\"fwdq\",\"bytes\":0}]} 4096'",
        "echo '{\"queues\":[{\"name\":\"fwdq\",\"bytes\":0}],\"queues\":[{\"name\":\"fwdq\",\"bytes\":4096}]}'",
        "echo 0; echo 4096"
      })
  void anAnswerFollowedByAnythingButWhiteSpace_isUnknown(String command) {
    ProbeReading r = read(command);
    assertThat(r.empty()).isFalse();
    assertThat(r.unknown()).isPresent();
  }

  @Test
  void anAnswerFollowedBySecondAnswer_saysSo() {
    ProbeReading r =
        read(
            "echo '{\"queues\":[{\"name\":\"fwdq\",\"bytes\":0}]}';"
                + " echo '{\"queues\":[{\"name\":\"fwdq\",\"bytes\":4096}]}'");
    assertThat(r.unknown().orElseThrow()).startsWith("probe command printed more than one answer");
  }

  /** The forms probes/README.md and the shipped probes print, white space around them allowed. */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "printf '4096\\n'",
        "printf '  4096  \\n\\n'",
        "printf '{\"queues\":[{\"name\":\"fwdq\",\"bytes\":4096}]}\\n'",
        "printf '{\\n  \"queues\": [\\n    {\"name\": \"fwdq\", \"bytes\": 4096}\\n  ]\\n}\\n'"
      })
  void everyDocumentedForm_stillReads(String command) {
    ProbeReading r = read(command);
    assertThat(r.unknown()).as(command).isEmpty();
    assertThat(r.bytes()).isEqualTo(4096);
  }

  /**
   * Issue 17, point 7: "no queues" is not "nothing queued" (a wrong prefix, a spool not mounted
   * yet); the Cribl probe reads a worker process without pq.queue_size the same way.
   */
  @Test
  void anAnswerNamingNoQueue_isUnknown_notEmpty() {
    ProbeReading r = read("echo '{\"queues\":[]}'");
    assertThat(r.empty()).isFalse();
    assertThat(r.unknown().orElseThrow()).startsWith("probe command named no queue");
    assertThat(DrainedWhen.parse("command").empty(List.of(r))).isFalse();
  }

  /**
   * The design's "every reading has an age" counts from the instant the read started: a clock that
   * jumps an hour once the command has run tells the start from the end.
   */
  @Test
  void theReading_carriesTheInstantItsReadStarted(@TempDir Path dir) {
    Path ran = dir.resolve("ran");
    Instant start = Instant.parse("2026-12-02T00:00:00Z");
    Clock clock =
        new Clock() {
          @Override
          public Instant instant() {
            return Files.exists(ran) ? start.plus(Duration.ofHours(1)) : start;
          }

          @Override
          public ZoneId getZone() {
            return ZoneOffset.UTC;
          }

          @Override
          public Clock withZone(ZoneId zone) {
            return this;
          }
        };
    ProbeReading known =
        new CommandProbe("touch " + ran + "; echo 0", Duration.ofSeconds(10), clock).read();
    assertThat(known.unknown()).isEmpty();
    assertThat(known.readAt()).isEqualTo(start);
  }

  /**
   * Issue 13, reproduction 9: a background child that keeps the command's stdout and stderr open
   * made 7 to 12 of 20 readings unknown (the output never reached end of file) and leaked an output
   * thread per stream. Each reading is known, and the child does not outlive the command.
   */
  @Test
  void aBackgroundChildKeepingThePipes_leavesEveryReadingKnown_andIsKilled(@TempDir Path dir)
      throws IOException {
    Path pids = dir.resolve("pids");
    for (int i = 0; i < 20; i++) {
      ProbeReading r = read("sleep 60 & echo $! >> " + pids + "; echo 0");
      assertThat(r.unknown()).as("reading %d", i).isEmpty();
      assertThat(r.empty()).isTrue();
    }
    List<Long> children = Files.readAllLines(pids).stream().map(Long::parseLong).toList();
    assertThat(children).hasSize(20);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> children.stream().noneMatch(CommandProbeTest::alive));
  }

  /**
   * Issue 13, point 9: 1,000 readings of a command whose background child keeps its output open
   * leave no thread, no descriptor and no process behind.
   */
  @Test
  void aThousandReadings_leakNoThreadNoDescriptorNoProcess() throws IOException {
    // a sleep no other test (nor an earlier run) starts
    String marker =
        "86399." + java.util.concurrent.ThreadLocalRandom.current().nextInt(1, 1_000_000);
    Map<String, Long> threadsBefore = threadsByName();
    long fdsBefore = openDescriptors();
    for (int i = 0; i < 1_000; i++) {
      ProbeReading r = read("sleep " + marker + " & echo 0");
      assertThat(r.unknown()).as("reading %d", i).isEmpty();
    }
    Map<String, Long> threadsAfter = threadsByName();
    long fdsAfter = openDescriptors();

    for (Map.Entry<String, Long> t : threadsAfter.entrySet()) {
      long before = threadsBefore.getOrDefault(t.getKey(), 0L);
      // the JDK's "process reaper" pool waits for each process; its idle threads linger a while
      long allowed = t.getKey().equals("process reaper") ? before + 4 : before;
      assertThat(t.getValue()).as("threads named '%s'", t.getKey()).isLessThanOrEqualTo(allowed);
    }
    assertThat(fdsAfter).as("open descriptors").isLessThanOrEqualTo(fdsBefore + 8);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                ProcessHandle.allProcesses()
                    .noneMatch(
                        h ->
                            h.info().commandLine().orElse("").contains("sleep " + marker)
                                && h.isAlive()));
  }

  static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  /** Live threads by name, numbers dropped: "drainguard-probe-output" counts them all. */
  static Map<String, Long> threadsByName() {
    return Thread.getAllStackTraces().keySet().stream()
        .collect(
            Collectors.groupingBy(
                t -> t.getName().replaceAll("[-#]?\\d+", ""), Collectors.counting()));
  }

  static long openDescriptors() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    }
  }

  @Test
  void parse_rejectsWhatIsNotAByteCount() {
    assertThatThrownBy(() -> CommandProbe.parse("lots"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("printed neither an integer nor");
  }
}
