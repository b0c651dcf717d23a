package dev.drainguard.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.operator.Caller;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Who a client believes: the user serving the socket, against the directories leading to it. */
class SocketTrustTest {

  static final Caller NOBODY = new Caller(65534, "nobody");

  @TempDir Path dir;

  Path run(String mode, String owner) throws IOException {
    Path run = Files.createDirectories(dir.resolve("run"));
    Files.setPosixFilePermissions(run, PosixFilePermissions.fromString(mode));
    Files.setOwner(
        run, run.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(owner));
    return run.resolve("control.sock");
  }

  @Test
  void theOwnerOfTheDirectory_andRoot_areBelieved() throws IOException {
    Path socket = run("rwxr-x---", System.getProperty("user.name"));
    assertThat(SocketTrust.check(socket, new Caller(Caller.selfUid(), "me"))).isEmpty();
    assertThat(SocketTrust.check(socket, new Caller(0, "root"))).isEmpty();
  }

  @Test
  void anotherUserServingIt_isNot() throws IOException {
    Path socket = run("rwxrwx---", System.getProperty("user.name"));
    assertThat(SocketTrust.check(socket, NOBODY))
        .hasValueSatisfying(
            why -> assertThat(why).contains("served by nobody (uid 65534)", "not the agent"));
  }

  @Test
  void anUnknownServer_isNot() throws IOException {
    assertThat(SocketTrust.check(run("rwxr-x---", "root"), Caller.UNKNOWN)).isPresent();
  }

  @Test
  void anAgentUsersDirectory_isBelievedWhereOnlyItCanWrite_notWhereOthersCould()
      throws IOException {
    Assumptions.assumeTrue(Caller.selfUid() == 0, "SKIPPED: chown to another user needs root");
    // nobody's own directory, under root's: nobody is the agent's user there
    assertThat(SocketTrust.check(run("rwxr-x---", "nobody"), NOBODY)).isEmpty();
    // the same, writable by others: anyone could have put it there
    assertThat(SocketTrust.check(run("rwxrwxrwx", "nobody"), NOBODY))
        .hasValueSatisfying(why -> assertThat(why).contains("may be changed by other users"));
  }
}
