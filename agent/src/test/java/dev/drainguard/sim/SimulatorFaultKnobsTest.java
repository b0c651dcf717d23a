package dev.drainguard.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drainguard.testing.MutableClock;
import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The fault knobs the reliability tests use: slow, refused and malformed answers. */
class SimulatorFaultKnobsTest {

  static final String G = "g";
  static final String H = "h";
  static final String I = "i-1";
  static final String TARGET = "/latest/meta-data/autoscaling/target-lifecycle-state";

  MutableClock clock = MutableClock.atNewYear();
  Simulator sim;
  SimClient client;

  @BeforeEach
  void start() {
    sim = Simulator.start(clock);
    sim.addGroup(G);
    sim.addInstance(G, I, "us-east-1", true);
    sim.addTerminationHook(G, H, Duration.ofSeconds(60), "ABANDON");
    client = new SimClient(sim);
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  @Test
  void delayImds_slowsTheNextRequestsOnly() throws IOException {
    String token = client.token();
    sim.delayImds(1, Duration.ofMillis(300));

    long started = System.nanoTime();
    assertThat(client.imdsGet(TARGET, token).body()).isEqualTo("InService");
    long slowMillis = (System.nanoTime() - started) / 1_000_000;
    started = System.nanoTime();
    client.imdsGet(TARGET, token);
    long fastMillis = (System.nanoTime() - started) / 1_000_000;

    assertThat(slowMillis).isGreaterThanOrEqualTo(300);
    assertThat(fastMillis).isLessThan(300);
  }

  @Test
  void imdsRefusing_refusesConnections_thenListensAgainOnTheSamePort() throws IOException {
    String token = client.token();
    var endpoint = sim.imdsEndpoint();

    sim.setImdsRefusing(true);
    assertThatThrownBy(() -> client.imdsGet(TARGET, token))
        .hasCauseInstanceOf(ConnectException.class);

    sim.setImdsRefusing(false);
    assertThat(sim.imdsEndpoint()).isEqualTo(endpoint);
    assertThat(client.imdsGet(TARGET, token).body()).isEqualTo("InService");
  }

  @Test
  void corruptImds_answers200WithTheGivenBody() throws IOException {
    String token = client.token();
    sim.corruptImds(1, "<html>garbage");

    HttpResponse<String> bad = client.imdsGet(TARGET, token);
    assertThat(bad.statusCode()).isEqualTo(200);
    assertThat(bad.body()).isEqualTo("<html>garbage");
    assertThat(client.imdsGet(TARGET, token).body()).isEqualTo("InService");
  }

  @Test
  void delayApi_carriesTheCallOutAndAnswersLate() throws IOException {
    sim.terminate(I);
    sim.delayApi("CompleteLifecycleAction", 1, Duration.ofMillis(300));

    long started = System.nanoTime();
    HttpResponse<String> r = client.complete(G, H, I, "CONTINUE");

    assertThat((System.nanoTime() - started) / 1_000_000).isGreaterThanOrEqualTo(300);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(sim.actionEnd(I))
        .hasValueSatisfying(e -> assertThat(e.result()).isEqualTo("CONTINUE"));
  }

  @Test
  void corruptApi_carriesTheCallOutAndAnswersTheGivenBody() throws IOException {
    sim.terminate(I);
    sim.corruptApi("RecordLifecycleActionHeartbeat", 1, "<RecordLifecycleActionHeartbeatRes");

    HttpResponse<String> r = client.heartbeat(G, H, I);

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("<RecordLifecycleActionHeartbeatRes");
    assertThat(sim.calls("RecordLifecycleActionHeartbeat"))
        .singleElement()
        .satisfies(c -> assertThat(c.succeeded()).isTrue());
    // the next one is answered properly
    assertThat(client.heartbeat(G, H, I).body()).contains("RecordLifecycleActionHeartbeatResponse");
  }
}
