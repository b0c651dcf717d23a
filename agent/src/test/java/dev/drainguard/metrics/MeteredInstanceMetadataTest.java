package dev.drainguard.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drainguard.imds.ImdsException;
import dev.drainguard.imds.InstanceMetadata;
import dev.drainguard.imds.TargetLifecycleState;
import dev.drainguard.testing.MutableClock;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MeteredInstanceMetadataTest {

  private final AgentMetrics metrics = new AgentMetrics(MutableClock.atNewYear(), "test");
  private final FakeImds fake = new FakeImds();
  private final InstanceMetadata imds = metrics.instrument(fake);

  /** Answers from its fields; throws {@link #failure} instead when it is set. */
  private static final class FakeImds implements InstanceMetadata {
    TargetLifecycleState state = TargetLifecycleState.IN_SERVICE;
    Optional<String> group = Optional.of("workers");
    RuntimeException failure;
    int calls;

    private void maybeFail() {
      calls++;
      if (failure != null) {
        throw failure;
      }
    }

    @Override
    public String instanceId() {
      maybeFail();
      return "i-1";
    }

    @Override
    public String region() {
      maybeFail();
      return "eu-west-1";
    }

    @Override
    public TargetLifecycleState targetLifecycleState() {
      maybeFail();
      return state;
    }

    @Override
    public Optional<String> autoScalingGroupFromTags() {
      maybeFail();
      return group;
    }

    @Override
    public Optional<dev.drainguard.imds.SpotNotice> spotInterruption() {
      maybeFail();
      return Optional.empty();
    }

    @Override
    public Optional<dev.drainguard.imds.SpotNotice> rebalanceRecommendation() {
      maybeFail();
      return Optional.empty();
    }
  }

  private double reads(String path, String outcome) {
    return new Scrape(metrics.scrape())
        .get("drainguard_imds_reads_total", "path", path, "outcome", outcome);
  }

  @Test
  void targetLifecycleState_countsOkAndNotFound() {
    assertThat(imds.targetLifecycleState()).isEqualTo(TargetLifecycleState.IN_SERVICE);
    fake.state = TargetLifecycleState.TERMINATED;
    assertThat(imds.targetLifecycleState()).isEqualTo(TargetLifecycleState.TERMINATED);
    fake.state = TargetLifecycleState.NOT_IN_GROUP;
    assertThat(imds.targetLifecycleState()).isEqualTo(TargetLifecycleState.NOT_IN_GROUP);

    assertThat(fake.calls).isEqualTo(3);
    assertThat(reads("target_lifecycle_state", "ok")).isEqualTo(2.0);
    assertThat(reads("target_lifecycle_state", "not_found")).isEqualTo(1.0);
    assertThat(reads("target_lifecycle_state", "error")).isZero();
  }

  @Test
  void anException_isRethrownAndCountedAsErrorOfItsPath() {
    ImdsException failure = new ImdsException("IMDS GET /latest/meta-data/instance-id", null);
    fake.failure = failure;

    assertThatThrownBy(imds::instanceId).isSameAs(failure);
    assertThatThrownBy(imds::targetLifecycleState).isSameAs(failure);

    assertThat(reads("instance_id", "error")).isEqualTo(1.0);
    assertThat(reads("target_lifecycle_state", "error")).isEqualTo(1.0);
    assertThat(reads("instance_id", "ok")).isZero();
  }

  @Test
  void identityReads_areCountedByPath() {
    assertThat(imds.instanceId()).isEqualTo("i-1");
    assertThat(imds.region()).isEqualTo("eu-west-1");
    assertThat(imds.autoScalingGroupFromTags()).contains("workers");
    fake.group = Optional.empty();
    assertThat(imds.autoScalingGroupFromTags()).isEmpty();

    assertThat(reads("instance_id", "ok")).isEqualTo(1.0);
    assertThat(reads("region", "ok")).isEqualTo(1.0);
    assertThat(reads("group_tag", "ok")).isEqualTo(1.0);
    assertThat(reads("group_tag", "not_found")).isEqualTo(1.0);
  }
}
