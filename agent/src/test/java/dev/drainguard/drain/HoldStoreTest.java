package dev.drainguard.drain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drainguard.operator.Caller;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HoldStoreTest {

  @TempDir Path dir;

  static final HoldStore.Saved HOLD =
      new HoldStore.Saved(
          new Caller(1000, "alice"),
          "checking \\\"S3\\\" = ok; 日本",
          Instant.parse("2026-01-01T00:00:20Z"),
          "i-0123456789abcdef0");

  @Test
  void aSavedHold_readsBackTheSame_fromAFileOnlyItsOwnerCanRead() throws IOException {
    HoldStore store = HoldStore.in(dir.resolve("state"));
    store.save(HOLD);

    assertThat(HoldStore.in(dir.resolve("state")).load()).contains(HOLD);
    Path file = dir.resolve("state").resolve(HoldStore.FILE);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())))
        .isEqualTo("rwx------");

    store.clear();
    assertThat(store.load()).isEmpty();
    store.clear(); // twice is harmless
  }

  @Test
  void nothingSaved_isEmpty_andNoneKeepsNothing() throws IOException {
    assertThat(HoldStore.in(dir).load()).isEmpty();
    HoldStore.NONE.save(HOLD);
    assertThat(HoldStore.NONE.load()).isEmpty();
    assertThat(HoldStore.NONE.file()).isEmpty();
  }

  @Test
  void aFileThatIsNotASavedHold_isAnError_notNothing() throws IOException {
    Files.writeString(
        dir.resolve(HoldStore.FILE), "uid=x\nuser=a\nreason=r\nsince=s\ninstance=i\n");
    assertThatThrownBy(() -> HoldStore.in(dir).load()).isInstanceOf(IOException.class);
    Files.writeString(dir.resolve(HoldStore.FILE), "v=1\n");
    assertThatThrownBy(() -> HoldStore.in(dir).load()).hasMessageContaining("without 'uid'");
  }
}
