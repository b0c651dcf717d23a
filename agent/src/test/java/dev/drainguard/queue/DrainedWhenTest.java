package dev.drainguard.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DrainedWhenTest {

  static final Instant T = Instant.parse("2026-12-02T00:00:00Z");

  static ProbeReading empty(String probe) {
    return ProbeReading.known(probe, T, List.of(new QueueReading("q", 0)));
  }

  static ProbeReading busy(String probe) {
    return ProbeReading.known(probe, T, List.of(new QueueReading("q", 10)));
  }

  static ProbeReading unknown(String probe) {
    return ProbeReading.unknown(probe, T, "HTTP 503");
  }

  @Test
  void all_needsEveryProbeEmpty() {
    DrainedWhen all = DrainedWhen.parse("all");
    assertThat(all.empty(List.of(empty("files"), empty("command")))).isTrue();
    assertThat(all.empty(List.of(empty("files"), busy("command")))).isFalse();
    assertThat(all.empty(List.of(empty("files"), unknown("command")))).isFalse();
  }

  @Test
  void any_needsOneKnownEmptyProbe_unknownNeverCounts() {
    DrainedWhen any = DrainedWhen.parse("any");
    assertThat(any.empty(List.of(busy("files"), empty("command")))).isTrue();
    assertThat(any.empty(List.of(busy("files"), unknown("command")))).isFalse();
  }

  @Test
  void named_countsOnlyTheNamed_theOthersAreShown() {
    DrainedWhen command = DrainedWhen.parse("command");
    assertThat(command.named()).isEqualTo(Set.of("command"));
    assertThat(command.decides("files")).isFalse();
    assertThat(command.empty(List.of(busy("files"), empty("command")))).isTrue();
    assertThat(command.empty(List.of(empty("files"), unknown("command")))).isFalse();
    assertThat(DrainedWhen.parse(" cribl , files ").toString()).isEqualTo("cribl,files");
  }

  @Test
  void anUnknownName_isRefused() {
    assertThatThrownBy(() -> DrainedWhen.parse("rsyslog"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown probe 'rsyslog'");
    assertThatThrownBy(() -> DrainedWhen.parse("files,"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
