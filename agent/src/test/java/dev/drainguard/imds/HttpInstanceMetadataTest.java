package dev.drainguard.imds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.net.RecordingSleeper;
import dev.drainguard.net.RetryPolicy;
import dev.drainguard.sim.Simulator;
import dev.drainguard.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The IMDS adapter against the simulator's IMDSv2 over loopback HTTP. */
class HttpInstanceMetadataTest {

  private static final String GROUP = "workers";
  private static final String ID = "i-0123456789abcdef0";
  private static final String REGION = "eu-west-1";
  private static final RetryPolicy POLICY =
      new RetryPolicy(3, Duration.ofMillis(100), Duration.ofSeconds(1));

  private final MutableClock clock = MutableClock.atNewYear();
  private final RecordingSleeper sleeper = new RecordingSleeper();
  private Simulator sim;
  private HttpInstanceMetadata imds;

  @BeforeEach
  void start() {
    sim = Simulator.start(clock);
    sim.addGroup(GROUP);
    sim.addInstance(GROUP, ID, REGION, true);
    imds = new HttpInstanceMetadata(sim.imdsEndpoint(), LoopbackGuard.of(true), POLICY, sleeper);
  }

  @AfterEach
  void stop() {
    imds.close();
    sim.close();
  }

  @Test
  void instanceIdAndRegion_readFromImds() {
    assertThat(imds.instanceId()).isEqualTo(ID);
    assertThat(imds.region()).isEqualTo(REGION);
    assertThat(sleeper.pauses()).isEmpty();
  }

  @Test
  void targetLifecycleState_inService_thenTerminatedAsSoonAsScaleInStarts() {
    assertThat(imds.targetLifecycleState()).isEqualTo(TargetLifecycleState.IN_SERVICE);

    sim.terminate(ID);

    assertThat(imds.targetLifecycleState()).isEqualTo(TargetLifecycleState.TERMINATED);
  }

  // IMDS answers 404 for an instance in no group: that is a state, not a failure to retry.
  @Test
  void targetLifecycleState_instanceInNoGroup_notInGroup() {
    sim.addInstance(null, "i-0lone", REGION, true);
    sim.setImdsInstance("i-0lone");

    assertThat(imds.targetLifecycleState()).isEqualTo(TargetLifecycleState.NOT_IN_GROUP);
    assertThat(imds.autoScalingGroupFromTags()).isEmpty();
    assertThat(sleeper.pauses()).isEmpty();
  }

  @Test
  void autoScalingGroupFromTags_tagsEnabled_groupName() {
    assertThat(imds.autoScalingGroupFromTags()).contains(GROUP);
  }

  @Test
  void autoScalingGroupFromTags_tagsDisabled_empty() {
    sim.addInstance(GROUP, "i-0notags", REGION, false);
    sim.setImdsInstance("i-0notags");

    assertThat(imds.autoScalingGroupFromTags()).isEmpty();
    assertThat(sleeper.pauses()).isEmpty();
  }

  // The SDK client caches its token and never drops it on 401: without the adapter's renewal every
  // read after IMDS forgot the token (restart, early expiry) would fail until the agent restarts.
  @Test
  void read_tokenRevokedMidRun_newTokenAndSucceedsWithoutWaiting() {
    assertThat(imds.instanceId()).isEqualTo(ID);

    sim.revokeImdsTokens();

    assertThat(imds.targetLifecycleState()).isEqualTo(TargetLifecycleState.IN_SERVICE);
    assertThat(imds.region()).isEqualTo(REGION);
    assertThat(sleeper.pauses()).as("a first 401 is answered with a new token at once").isEmpty();
  }

  @Test
  void read_unauthorizedEvenWithNewTokens_imdsExceptionAfterPolicyAttempts() {
    sim.failImds(POLICY.attempts(), 401);

    assertThatThrownBy(() -> imds.instanceId())
        .isInstanceOf(ImdsException.class)
        .hasMessageContaining(HttpInstanceMetadata.PATH_INSTANCE_ID)
        .hasMessageContaining(sim.imdsEndpoint().toString())
        .hasMessageContaining("after " + POLICY.attempts() + " attempts");
  }

  @Test
  void read_serverErrorBurst_retriedWithGrowingPausesThenSucceeds() {
    sim.failImds(2, 500);

    assertThat(imds.instanceId()).isEqualTo(ID);
    assertThat(sleeper.pauses()).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200));
  }

  @Test
  void read_serverErrorsOutlastThePolicy_imdsExceptionNamingPathAndEndpoint() {
    sim.failImds(POLICY.attempts(), 503);

    assertThatThrownBy(() -> imds.targetLifecycleState())
        .isInstanceOf(ImdsException.class)
        .hasMessageContaining("IMDS GET " + HttpInstanceMetadata.PATH_TARGET_STATE)
        .hasMessageContaining("at " + sim.imdsEndpoint())
        .hasMessageContaining("after 3 attempts");
    assertThat(sleeper.pauses()).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200));
    // Exactly the policy's attempts were made: the next read finds IMDS healthy again.
    assertThat(imds.targetLifecycleState()).isEqualTo(TargetLifecycleState.IN_SERVICE);
  }

  @Test
  void read_imdsUnavailable_imdsExceptionAfterPolicyAttempts() {
    sim.setImdsAvailable(false);

    assertThatThrownBy(() -> imds.instanceId())
        .isInstanceOf(ImdsException.class)
        .hasMessageContaining(HttpInstanceMetadata.PATH_INSTANCE_ID)
        .hasMessageContaining(sim.imdsEndpoint().toString())
        .hasMessageContaining("after 3 attempts");
    assertThat(sleeper.pauses()).hasSize(POLICY.attempts() - 1);

    sim.setImdsAvailable(true);
    assertThat(imds.instanceId()).isEqualTo(ID);
  }

  // A 403 (IMDS off for this path, or a hop limit) cannot pass by retrying; waiting would only
  // delay the agent's report of it.
  @Test
  void read_forbidden_imdsExceptionWithoutRetry() {
    sim.failImds(1, 403);

    assertThatThrownBy(() -> imds.instanceId())
        .isInstanceOf(ImdsException.class)
        .hasMessageContaining("IMDS GET " + HttpInstanceMetadata.PATH_INSTANCE_ID)
        .hasMessageContaining("HTTP 403");
    // One injected failure only: a retry would have succeeded instead of throwing.
    assertThat(sleeper.pauses()).isEmpty();
  }

  @Test
  void spotInterruption_noneThenNotice_actionAndTimeParsed() {
    assertThat(imds.spotInterruption()).isEmpty();

    sim.setPurchasingOption(ID, "spot");
    sim.spotInterruption(ID, "terminate", Instant.parse("2026-01-01T00:02:00Z"));

    assertThat(imds.spotInterruption())
        .contains(
            new SpotNotice(
                SpotNotice.Kind.INTERRUPTION, "terminate", Instant.parse("2026-01-01T00:02:00Z")));
    assertThat(sleeper.pauses()).as("404 is a state, not retried").isEmpty();
  }

  @Test
  void purchasingOption_asImdsSaysIt_emptyWhenItDoesNot() {
    assertThat(imds.purchasingOption()).contains("on-demand");
    sim.setPurchasingOption(ID, "spot");
    assertThat(imds.purchasingOption()).contains("spot");

    try (Simulator bare = Simulator.start(clock)) {
      HttpInstanceMetadata none =
          new HttpInstanceMetadata(bare.imdsEndpoint(), LoopbackGuard.of(true), POLICY, sleeper);
      assertThat(none.purchasingOption()).as("no instance: 404").isEmpty();
    }
  }

  @Test
  void spotInterruption_stop_actionKept() {
    sim.setPurchasingOption(ID, "spot");
    sim.spotInterruption(ID, "stop", Instant.parse("2026-01-01T00:02:00Z"));

    assertThat(imds.spotInterruption())
        .hasValueSatisfying(n -> assertThat(n.action()).isEqualTo("stop"));
  }

  @Test
  void rebalanceRecommendation_noneThenNotice_noticeTimeParsed() {
    assertThat(imds.rebalanceRecommendation()).isEmpty();

    sim.setPurchasingOption(ID, "spot");
    sim.rebalanceRecommendation(ID, Instant.parse("2026-01-01T00:00:10Z"));

    assertThat(imds.rebalanceRecommendation())
        .hasValueSatisfying(
            n -> {
              assertThat(n.kind()).isEqualTo(SpotNotice.Kind.REBALANCE);
              assertThat(n.time()).isEqualTo(Instant.parse("2026-01-01T00:00:10Z"));
            });
    assertThat(imds.spotInterruption()).as("a rebalance is not an interruption").isEmpty();
  }

  @Test
  void instanceProfileCredentials_noneThenAttached_roleAndItsDocument() {
    assertThat(imds.instanceProfileCredentials()).as("404, no instance profile").isEmpty();

    sim.setInstanceProfile(
        "worker-role", "ASIAKEY", "sec\"ret", "tok", Instant.parse("2026-01-01T06:00:00Z"));

    assertThat(imds.instanceProfileCredentials())
        .hasValueSatisfying(
            d -> {
              assertThat(d.role()).isEqualTo("worker-role");
              assertThat(d.json())
                  .contains(
                      "\"Code\" : \"Success\"",
                      "\"AccessKeyId\" : \"ASIAKEY\"",
                      "\"SecretAccessKey\" : \"sec\\\"ret\"",
                      "\"Token\" : \"tok\"",
                      "\"Expiration\" : \"2026-01-01T06:00:00Z\"");
            });
    assertThat(sleeper.pauses()).isEmpty();
  }

  // The document is read with the same retries as any read: a 500 on the role's path is retried.
  @Test
  void instanceProfileCredentials_serverErrorOnce_retried() {
    sim.setInstanceProfile(
        "worker-role", "ASIAKEY", "s", "t", Instant.parse("2026-01-01T06:00:00Z"));
    sim.failImds(1, 500);

    assertThat(imds.instanceProfileCredentials()).isPresent();
    assertThat(sleeper.pauses()).hasSize(1);
  }
}
