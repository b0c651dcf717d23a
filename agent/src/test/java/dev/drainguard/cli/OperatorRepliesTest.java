package dev.drainguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.config.Setting;
import dev.drainguard.drain.Phase;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code status}, {@code hold} and {@code release} tell the operator in the cases issue 20
 * found wrong: a release on a retained instance, and a reply that leaves fields out.
 */
class OperatorRepliesTest {

  static final Duration HT = Duration.ofSeconds(60);

  @TempDir Path root;
  ScaleInHarness h;

  @AfterEach
  void tearDown() {
    if (h != null) {
      h.close();
    }
  }

  MainTest.Run cli(Path socket, String... args) {
    String[] all = new String[args.length + 2];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "--control-socket";
    all[args.length + 1] = socket.toString();
    return MainTest.execute(all);
  }

  @Test
  void releasingARetainedInstance_saysTheAgentTerminatedIt_notThatContinueWasSent()
      throws IOException {
    Path dir = Files.createDirectories(root.resolve("0/out"));
    Files.write(dir.resolve("00001.pq"), new byte[4096]);
    h = new ScaleInHarness(HT, Duration.ZERO, root);
    h.sim.setRetainOnTerminateHookAbandon(ScaleInHarness.GROUP, true);
    h.set(Setting.DEADLINE_POLICY, "retain").set(Setting.MAX_HOLD, "2m");
    h.startAgent();
    h.scaleInUntilHolding();
    h.advance(Duration.ofMinutes(2).plusSeconds(10));
    assertThat(h.status().phase()).isEqualTo(Phase.RETAINED);

    MainTest.Run r = cli(h.socket(), "release", "--force", "--reason", "decommissioned");

    assertThat(r.code()).as(r.err()).isZero();
    // issue 20: it printed "completed: CONTINUE sent" though the agent terminated the instance
    assertThat(r.out())
        .contains("terminated: the retained instance was terminated")
        .contains("TerminateInstanceInAutoScalingGroup")
        .contains("4096 queued bytes lost")
        .doesNotContain("CONTINUE");
    assertThat(h.sim.lifecycleState(ScaleInHarness.INSTANCE)).isEqualTo("Terminated");
  }

  @Test
  void aReplyWithoutProbesOrRoots_isShown_notACrash() throws Exception {
    // an older or leaner agent's reply: no probes, no roots, few fields
    Path socket = root.resolve("control.sock");
    String reply =
        "{\"v\":1,\"ok\":true,\"status\":{\"phase\":\"IN_SERVICE\",\"queues\":{\"empty\":true}}}";
    CompletableFuture<Void> agent = answerOnce(socket, reply);

    MainTest.Run r = cli(socket, "status");

    // issue 20: NullPointerException in the client
    assertThat(r.err()).doesNotContain("Exception");
    assertThat(r.code()).isEqualTo(StatusCommand.IN_SERVICE);
    assertThat(r.out()).contains("phase         IN_SERVICE", "queues        empty");
    agent.get();
  }

  /** A one-shot agent on {@code socket}: reads one request line, answers {@code reply}. */
  static CompletableFuture<Void> answerOnce(Path socket, String reply) throws IOException {
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(socket));
    return CompletableFuture.runAsync(
        () -> {
          try (server;
              SocketChannel c = server.accept()) {
            ByteBuffer in = ByteBuffer.allocate(4096);
            while (c.read(in) > 0 && in.get(in.position() - 1) != '\n') {
              // the whole request line
            }
            c.write(ByteBuffer.wrap((reply + "\n").getBytes(StandardCharsets.UTF_8)));
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
  }
}
