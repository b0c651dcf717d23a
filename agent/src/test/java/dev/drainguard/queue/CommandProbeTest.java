package dev.drainguard.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
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

  @Test
  void parse_rejectsWhatIsNotAByteCount() {
    assertThatThrownBy(() -> CommandProbe.parse("lots"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("printed neither an integer nor");
  }
}
