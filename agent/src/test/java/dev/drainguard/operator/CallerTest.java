package dev.drainguard.operator;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CallerTest {

  @Test
  void uidOf_aFileOwner_isTheKernelsUid(@TempDir Path dir) throws Exception {
    // guards the JDK detail Caller relies on: a principal's hash is its uid
    Path f = Files.createFile(dir.resolve("f"));
    int uid = (Integer) Files.getAttribute(f, "unix:uid");

    assertThat(Caller.uidOf(Files.getOwner(f))).hasValue(uid);
    assertThat(Caller.selfUid()).isEqualTo(uid);
    assertThat(Caller.uidOf("root")).hasValue(0);
  }

  @Test
  void aUserNameIsMadeSafeToLog() {
    assertThat(new Caller(5, "evil\nname").user()).isEqualTo("evil\\nname");
    assertThat(new Caller(5, "").user()).isEqualTo("unknown");
    assertThat(new Caller(1000, "alice").describe()).isEqualTo("alice (uid 1000)");
    assertThat(Caller.UNKNOWN.describe()).isEqualTo("unknown (uid unknown)");
  }
}
