package dev.drainguard.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drainguard.testing.MutableClock;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class ImdsHandlerTest {

  private static final String INSTANCE_ID = "/latest/meta-data/instance-id";
  private static final String REGION = "/latest/meta-data/placement/region";
  private static final String TARGET_STATE = "/latest/meta-data/autoscaling/target-lifecycle-state";
  private static final String GROUP_TAG =
      "/latest/meta-data/tags/instance/aws:autoscaling:groupName";
  private static final String SPOT_ACTION = "/latest/meta-data/spot/instance-action";
  private static final String REBALANCE = "/latest/meta-data/events/recommendations/rebalance";

  private final MutableClock clock = MutableClock.atNewYear();
  private Simulator sim;
  private SimClient client;

  @BeforeEach
  void start() {
    sim = Simulator.start(clock);
    sim.addGroup("workers");
    sim.addInstance("workers", "i-0aaa", "eu-west-1", true);
    client = new SimClient(sim);
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  @Test
  void putToken_validTtl_answersTokenWithTtlHeader() throws IOException {
    HttpResponse<String> r = client.putToken("300");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isNotBlank();
    // The SDK fails the token request when this header is missing.
    assertThat(r.headers().firstValue("x-aws-ec2-metadata-token-ttl-seconds")).hasValue("300");
  }

  @ParameterizedTest
  @NullSource
  @ValueSource(strings = {"0", "21601", "-5", "soon", ""})
  void putToken_missingOrBadTtl_answers400(String ttl) throws IOException {
    assertThat(client.putToken(ttl).statusCode()).isEqualTo(400);
  }

  @Test
  void get_validToken_answersInstanceFacts() throws IOException {
    String token = client.token();

    assertThat(client.imdsGet(INSTANCE_ID, token).body()).isEqualTo("i-0aaa");
    assertThat(client.imdsGet(REGION, token).body()).isEqualTo("eu-west-1");
    assertThat(client.imdsGet(GROUP_TAG, token).body()).isEqualTo("workers");
  }

  @Test
  void get_withoutToken_answers401BecauseImdsV2IsRequired() throws IOException {
    assertThat(client.imdsGet(INSTANCE_ID, null).statusCode()).isEqualTo(401);
  }

  @Test
  void get_unknownToken_answers401() throws IOException {
    assertThat(client.imdsGet(INSTANCE_ID, "not-a-token").statusCode()).isEqualTo(401);
  }

  @Test
  void get_expiredToken_answers401() throws IOException {
    String token = client.putToken("60").body();
    clock.advance(Duration.ofSeconds(59));
    assertThat(client.imdsGet(INSTANCE_ID, token).statusCode()).isEqualTo(200);

    clock.advance(Duration.ofSeconds(1));

    assertThat(client.imdsGet(INSTANCE_ID, token).statusCode()).isEqualTo(401);
  }

  @Test
  void revokeImdsTokens_issuedToken_answers401UntilANewTokenIsTaken() throws IOException {
    String token = client.token();

    sim.revokeImdsTokens();

    assertThat(client.imdsGet(INSTANCE_ID, token).statusCode()).isEqualTo(401);
    assertThat(client.imdsGet(INSTANCE_ID, client.token()).statusCode()).isEqualTo(200);
  }

  @Test
  void targetLifecycleState_terminate_readsTerminatedAtOnce() throws IOException {
    sim.addTerminationHook("workers", "drain", Duration.ofMinutes(10), "CONTINUE");
    sim.setDeregistrationDelay(Duration.ofMinutes(5));
    String token = client.token();
    assertThat(client.imdsGet(TARGET_STATE, token).body()).isEqualTo("InService");

    sim.terminate("i-0aaa");

    // Still deregistering, yet IMDS already tells where the instance is going.
    assertThat(sim.lifecycleState("i-0aaa")).isEqualTo("Terminating");
    assertThat(client.imdsGet(TARGET_STATE, token).body()).isEqualTo("Terminated");
  }

  @Test
  void targetLifecycleState_instanceInNoGroup_answers404() throws IOException {
    sim.addInstance(null, "i-0bbb", "eu-west-1", true);
    sim.setImdsInstance("i-0bbb");
    String token = client.token();

    assertThat(client.imdsGet(TARGET_STATE, token).statusCode()).isEqualTo(404);
    assertThat(client.imdsGet(GROUP_TAG, token).statusCode()).isEqualTo(404);
    assertThat(client.imdsGet(INSTANCE_ID, token).body()).isEqualTo("i-0bbb");
  }

  @Test
  void groupTag_metadataTagsDisabled_answers404() throws IOException {
    sim.addInstance("workers", "i-0ccc", "eu-west-1", false);
    sim.setImdsInstance("i-0ccc");

    assertThat(client.imdsGet(GROUP_TAG, client.token()).statusCode()).isEqualTo(404);
  }

  @Test
  void get_unknownPath_answers404() throws IOException {
    String token = client.token();

    assertThat(client.imdsGet("/latest/meta-data/nothing-here", token).statusCode()).isEqualTo(404);
    assertThat(client.imdsGet("/latest/user-data", token).statusCode()).isEqualTo(404);
  }

  @Test
  void failImds_twoTimes_failsTwoGetsButNoTokenPut() throws IOException {
    String token = client.token();

    sim.failImds(2, 500);

    assertThat(client.putToken("60").statusCode()).isEqualTo(200);
    assertThat(client.imdsGet(INSTANCE_ID, token).statusCode()).isEqualTo(500);
    assertThat(client.imdsGet(INSTANCE_ID, token).statusCode()).isEqualTo(500);
    assertThat(client.imdsGet(INSTANCE_ID, token).statusCode()).isEqualTo(200);
  }

  @Test
  void setImdsAvailable_false_dropsConnectionsUntilTrue() throws IOException {
    String token = client.token();

    sim.setImdsAvailable(false);

    assertThatThrownBy(() -> client.imdsGet(INSTANCE_ID, token)).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> client.putToken("60")).isInstanceOf(IOException.class);

    sim.setImdsAvailable(true);

    assertThat(client.imdsGet(INSTANCE_ID, token).statusCode()).isEqualTo(200);
  }

  @Test
  void imds_noInstanceAdded_answers404() throws IOException {
    try (Simulator empty = Simulator.start(clock)) {
      SimClient emptyClient = new SimClient(empty);

      assertThat(emptyClient.imdsGet(INSTANCE_ID, emptyClient.token()).statusCode()).isEqualTo(404);
    }
  }

  @Test
  void spotInstanceAction_noticeGiven_404ThenJsonLikeAws() throws IOException {
    sim.setPurchasingOption("i-0aaa", "spot");
    String token = client.token();
    assertThat(client.imdsGet(SPOT_ACTION, token).statusCode()).isEqualTo(404);

    sim.spotInterruption("i-0aaa", "terminate", Instant.parse("2026-01-01T00:02:00.750Z"));

    HttpResponse<String> r = client.imdsGet(SPOT_ACTION, token);
    assertThat(r.statusCode()).isEqualTo(200);
    // Whole seconds with a Z, as IMDS writes it: a parser expecting fractions would break here.
    assertThat(r.body()).isEqualTo("{\"action\":\"terminate\",\"time\":\"2026-01-01T00:02:00Z\"}");
  }

  @Test
  void rebalance_noticeGiven_404ThenJsonLikeAws() throws IOException {
    sim.setPurchasingOption("i-0aaa", "spot");
    String token = client.token();
    assertThat(client.imdsGet(REBALANCE, token).statusCode()).isEqualTo(404);

    sim.rebalanceRecommendation("i-0aaa", Instant.parse("2026-01-01T00:00:00Z"));

    HttpResponse<String> r = client.imdsGet(REBALANCE, token);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("{\"noticeTime\":\"2026-01-01T00:00:00Z\"}");
  }

  @Test
  void spotNotices_withoutToken_401() throws IOException {
    sim.setPurchasingOption("i-0aaa", "spot");
    sim.spotInterruption("i-0aaa", "stop", Instant.parse("2026-01-01T00:02:00Z"));
    sim.rebalanceRecommendation("i-0aaa", Instant.parse("2026-01-01T00:00:00Z"));

    assertThat(client.imdsGet(SPOT_ACTION, null).statusCode()).isEqualTo(401);
    assertThat(client.imdsGet(REBALANCE, null).statusCode()).isEqualTo(401);
  }

  @Test
  void spotNotices_forAnotherInstance_notShownByThisOne() throws IOException {
    sim.addInstance("workers", "i-0bbb", "eu-west-1", true);
    sim.setPurchasingOption("i-0bbb", "spot");
    sim.spotInterruption("i-0bbb", "hibernate", Instant.parse("2026-01-01T00:02:00Z"));
    String token = client.token();

    assertThat(client.imdsGet(SPOT_ACTION, token).statusCode()).isEqualTo(404);

    sim.setImdsInstance("i-0bbb");
    assertThat(client.imdsGet(SPOT_ACTION, token).body()).contains("\"action\":\"hibernate\"");
  }

  @Test
  void spotInterruption_unknownAction_rejected() {
    sim.setPurchasingOption("i-0aaa", "spot");
    assertThatThrownBy(() -> sim.spotInterruption("i-0aaa", "reboot", Instant.EPOCH))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("reboot");
  }

  @Test
  void instanceLifeCycle_onDemandUntilMadeSpot_andCountedByPath() throws IOException {
    String token = client.token();
    String path = "/latest/meta-data/instance-life-cycle";
    long before = sim.imdsGets(path);

    assertThat(client.imdsGet(path, token).body()).isEqualTo("on-demand");
    sim.setPurchasingOption("i-0aaa", "spot");
    assertThat(client.imdsGet(path, token).body()).isEqualTo("spot");
    assertThat(sim.imdsGets(path) - before).isEqualTo(2);
  }

  @Test
  void spotNotices_toAnOnDemandInstance_refusedAsTheTestsMistake() {
    assertThatThrownBy(() -> sim.spotInterruption("i-0aaa", "terminate", Instant.EPOCH))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("on-demand");
    assertThatThrownBy(() -> sim.rebalanceRecommendation("i-0aaa", Instant.EPOCH))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("setPurchasingOption");
  }
}
