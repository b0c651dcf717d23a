package dev.drainguard.status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drainguard.drain.ControlResult;
import dev.drainguard.operator.Caller;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control socket's server over a real Unix domain socket, with a scripted handler. */
class ControlServerTest {

  @TempDir Path dir;
  ControlServer server;

  final AtomicInteger statusCalls = new AtomicInteger();
  final List<Caller> callers = new java.util.concurrent.CopyOnWriteArrayList<>();

  final ControlHandler handler =
      new ControlHandler() {
        @Override
        public StatusView status() {
          statusCalls.incrementAndGet();
          return null;
        }

        @Override
        public ControlResult hold(Caller caller, String reason) {
          callers.add(caller);
          return new ControlResult(true, "holding: " + reason);
        }

        @Override
        public ControlResult release(Caller caller, boolean force, String reason) {
          callers.add(caller);
          return force
              ? new ControlResult(true, "completed")
              : new ControlResult(false, "refused: 10 bytes queued");
        }
      };

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  Path socket() {
    return dir.resolve("run/control.sock");
  }

  /** Sends raw lines on one connection and returns the reply lines. */
  List<JsonNode> exchange(String... lines) throws IOException {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(socket()));
      OutputStream out = Channels.newOutputStream(ch);
      BufferedReader in =
          new BufferedReader(
              new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
      List<JsonNode> replies = new ArrayList<>();
      for (String line : lines) {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        replies.add(new ObjectMapper().readTree(in.readLine()));
      }
      return replies;
    }
  }

  @Test
  void badRequests_getErrorRepliesAndTheServerKeepsServing() throws IOException {
    server = ControlServer.start(socket(), handler);
    List<JsonNode> replies =
        exchange(
            "this is not json",
            "{\"v\":2,\"op\":\"status\"}",
            "{\"op\":\"status\"}",
            "{\"v\":1,\"op\":\"reboot\"}",
            "[1,2,3]",
            "{\"v\":\"1\",\"op\":\"status\"}",
            "{\"v\":1,\"op\":\"status\"} {\"v\":1,\"op\":\"release\",\"force\":true}",
            "{\"v\":1,\"op\":\"hold\",\"reason\":\"" + "r".repeat(501) + "\"}",
            "{\"v\":1,\"op\":\"release\",\"force\":\"true\"}",
            "{\"v\":1,\"op\":\"hold\",\"reason\":\"still here\"}");
    assertThat(replies.get(0).get("ok").asBoolean()).isFalse();
    assertThat(replies.get(0).get("error").asText()).contains("malformed request");
    assertThat(replies.get(1).get("error").asText()).contains("unsupported protocol version 2");
    assertThat(replies.get(2).get("error").asText()).contains("unsupported protocol version");
    assertThat(replies.get(3).get("error").asText()).contains("unknown op 'reboot'");
    assertThat(replies.get(4).get("ok").asBoolean()).isFalse();
    // issue 20: "v":"1" was taken for 1, and a second object on the line was dropped unseen
    assertThat(replies.get(5).get("error").asText()).contains("unsupported protocol version '1'");
    assertThat(replies.get(6).get("error").asText()).contains("exactly one JSON object per line");
    assertThat(replies.get(7).get("error").asText())
        .contains("reason is 501 characters long: at most 500");
    assertThat(replies.get(8).get("error").asText()).isEqualTo("force must be true or false");
    assertThat(replies.get(9).get("ok").asBoolean()).isTrue();
    assertThat(replies.get(9).get("message").asText()).isEqualTo("holding: still here");
    assertThat(callers).hasSize(1); // only the valid hold reached the handler
    assertThat(replies).allSatisfy(r -> assertThat(r.get("v").asInt()).isEqualTo(1));
  }

  @Test
  void anOversizedRequest_isRefusedWithoutHarm() throws IOException {
    server = ControlServer.start(socket(), handler);
    String huge = "x".repeat(ControlProtocol.MAX_LINE + 10);
    List<JsonNode> replies = exchange(huge);
    assertThat(replies.get(0).get("error").asText()).contains("longer than");
    assertThat(exchange("{\"v\":1,\"op\":\"hold\",\"reason\":\"ok\"}").get(0).get("ok").asBoolean())
        .isTrue();
  }

  @Test
  void aRefusalCarriesItsReasonAsTheError() throws IOException {
    server = ControlServer.start(socket(), handler);
    JsonNode r = exchange("{\"v\":1,\"op\":\"release\",\"force\":false}").get(0);
    assertThat(r.get("ok").asBoolean()).isFalse();
    assertThat(r.get("error").asText()).isEqualTo("refused: 10 bytes queued");
  }

  @Test
  void fiftyConcurrentClients_areAllServed() throws Exception {
    server = ControlServer.start(socket(), handler);
    ExecutorService pool = Executors.newFixedThreadPool(50);
    CountDownLatch go = new CountDownLatch(1);
    List<CompletableFuture<ControlProtocol.Reply>> replies = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      replies.add(
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  go.await();
                  // more than root's slots at once: the ones told "busy" ask again
                  return new ControlClient(
                          socket(),
                          Duration.ofSeconds(20),
                          d -> java.util.concurrent.locks.LockSupport.parkNanos(d.toNanos()))
                      .send(ControlProtocol.Request.of(ControlProtocol.Op.STATUS, null, false));
                } catch (Exception e) {
                  throw new RuntimeException(e);
                }
              },
              pool));
    }
    go.countDown();
    CompletableFuture.allOf(replies.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    pool.shutdownNow();
    assertThat(replies).allSatisfy(f -> assertThat(f.join().ok()).isTrue());
    assertThat(statusCalls.get()).isEqualTo(50);
  }

  @Test
  void theSocketIsReadableAndWritableByOwnerAndGroupOnly() throws IOException {
    server = ControlServer.start(socket(), handler);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket())))
        .isEqualTo("rw-rw----");
    // issue 20: a group-writable directory let a member delete the socket or put up another
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket().getParent())))
        .isEqualTo("rwxr-x---");
  }

  @Test
  void aStaleSocketFromADeadAgent_isReplaced() throws IOException {
    Files.createDirectories(socket().getParent());
    // A socket nobody listens on any more: what an agent killed with SIGKILL leaves behind.
    try (var dead = java.nio.channels.ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      dead.bind(UnixDomainSocketAddress.of(socket()));
    }
    assertThat(socket()).exists();
    server = ControlServer.start(socket(), handler);
    assertThat(exchange("{\"v\":1,\"op\":\"hold\",\"reason\":\"r\"}").get(0).get("ok").asBoolean())
        .isTrue();
  }

  @Test
  void aSecondAgentOnTheSameSocket_isRefused() {
    server = ControlServer.start(socket(), handler);
    assertThatThrownBy(() -> ControlServer.start(socket(), handler))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("another drainguard agent is serving");
  }

  @Test
  void close_removesTheSocket_andClientsThenSeeTheAgentUnreachable() {
    server = ControlServer.start(socket(), handler);
    server.close();
    assertThat(socket()).doesNotExist();
    assertThatThrownBy(
            () ->
                new ControlClient(socket(), Duration.ofSeconds(1))
                    .send(ControlProtocol.Request.of(ControlProtocol.Op.STATUS, null, false)))
        .isInstanceOf(ControlClient.UnreachableException.class)
        .hasMessageContaining("not reachable at " + socket());
  }

  @Test
  void aFileThatIsNotASocket_isNeverDeleted() throws IOException {
    Files.createDirectories(socket().getParent());
    Files.writeString(socket(), "not a socket");
    assertThatThrownBy(() -> ControlServer.start(socket(), handler))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("is not a socket");
    assertThat(Files.readString(socket())).isEqualTo("not a socket");
  }

  @Test
  void theCallerIsWhoTheKernelSays_notWhatTheRequestClaims() throws IOException {
    server = ControlServer.start(socket(), handler);
    exchange("{\"v\":1,\"op\":\"hold\",\"reason\":\"r\",\"user\":\"mallory\",\"uid\":0}");
    assertThat(callers)
        .containsExactly(new Caller(Caller.selfUid(), System.getProperty("user.name")));
  }

  @Test
  void anOwnDirectoryThatOthersMayWrite_isTightened() throws IOException {
    Files.createDirectories(socket().getParent());
    Files.setPosixFilePermissions(
        socket().getParent(), PosixFilePermissions.fromString("rwxrwx-wx"));
    server = ControlServer.start(socket(), handler);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket().getParent())))
        .isEqualTo("rwxr-x--x");
  }

  @Test
  void silentAndTricklingClients_areCutOffWithinSeconds_andOthersAreServed() throws Exception {
    server = ControlServer.start(socket(), handler);
    List<SocketChannel> idle = new ArrayList<>();
    for (int i = 0; i < Admission.ROOT; i++) {
      SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
      ch.connect(UnixDomainSocketAddress.of(socket()));
      // half of them trickle a byte now and then, as a slowloris does: a whole request never comes
      ch.write(java.nio.ByteBuffer.wrap(i % 2 == 0 ? new byte[0] : new byte[] {'{'}));
      idle.add(ch);
    }
    await().atMost(Duration.ofSeconds(2)).until(() -> server.open() == Admission.ROOT);
    // every slot this uid may have is taken: the next client is told so at once, not kept waiting
    // (through the real client: the agent may answer and close before the request is written, and
    // a bare write would then end in a broken pipe)
    ControlProtocol.Reply busy =
        new ControlClient(socket(), Duration.ofSeconds(10))
            .send(ControlProtocol.Request.of(ControlProtocol.Op.STATUS, null, false));
    assertThat(busy.ok()).isFalse();
    assertThat(busy.error()).startsWith("busy:");
    // issue 20: clients that asked every 9 s kept their slots for ever; now they are closed
    await().atMost(ControlSession.READ_LIMIT.plusSeconds(10)).until(() -> server.open() == 0);
    for (SocketChannel ch : idle) {
      assertThat(ch.read(java.nio.ByteBuffer.allocate(16))).isEqualTo(-1); // closed by the agent
      ch.close();
    }
    ControlProtocol.Reply r =
        new ControlClient(socket(), Duration.ofSeconds(10))
            .send(ControlProtocol.Request.of(ControlProtocol.Op.HOLD, "r", false));
    assertThat(r.ok()).isTrue();
  }

  @Test
  void aConnection_servesAtMostMaxRequests() throws IOException {
    server = ControlServer.start(socket(), handler);
    String[] lines = new String[ControlSession.MAX_REQUESTS];
    java.util.Arrays.fill(lines, "{\"v\":1,\"op\":\"status\"}");
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(socket()));
      OutputStream out = Channels.newOutputStream(ch);
      BufferedReader in =
          new BufferedReader(
              new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
      for (String line : lines) {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        assertThat(in.readLine()).contains("\"ok\":true");
      }
      assertThat(in.readLine()).isNull(); // closed by the agent after the last one
    }
  }
}
