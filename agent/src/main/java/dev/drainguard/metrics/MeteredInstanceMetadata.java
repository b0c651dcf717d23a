package dev.drainguard.metrics;

import dev.drainguard.imds.InstanceMetadata;
import dev.drainguard.imds.SpotNotice;
import dev.drainguard.imds.TargetLifecycleState;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Counts each read of an {@link InstanceMetadata}, then answers as it did (an exception is counted
 * and rethrown).
 *
 * <table>
 *   <caption>Labels of {@code drainguard_imds_reads_total}</caption>
 *   <tr><th>path</th><th>outcome</th></tr>
 *   <tr><td>target_lifecycle_state</td><td>ok; not_found (404: in no group); error</td></tr>
 *   <tr><td>group_tag</td><td>ok; not_found (tags not in metadata, or blank); error</td></tr>
 *   <tr><td>instance_id, region</td><td>ok, error</td></tr>
 *   <tr><td>spot_instance_action, rebalance_recommendation</td><td>ok; not_found (no notice);
 *       error</td></tr>
 *   <tr><td>instance_life_cycle</td><td>ok; not_found (IMDS does not say); error</td></tr>
 * </table>
 *
 * <p>Every series above is registered at 0 up front.
 */
final class MeteredInstanceMetadata implements InstanceMetadata {

  static final String INSTANCE_ID = "instance_id";
  static final String REGION = "region";
  static final String TARGET_STATE = "target_lifecycle_state";
  static final String GROUP_TAG = "group_tag";
  static final String SPOT_ACTION = "spot_instance_action";
  static final String REBALANCE = "rebalance_recommendation";
  static final String LIFE_CYCLE = "instance_life_cycle";
  static final String OK = "ok";
  static final String NOT_FOUND = "not_found";
  static final String ERROR = "error";

  private final InstanceMetadata delegate;
  private final MeterRegistry registry;

  MeteredInstanceMetadata(InstanceMetadata delegate, MeterRegistry registry) {
    this.delegate = delegate;
    this.registry = registry;
    for (String path : new String[] {INSTANCE_ID, REGION, TARGET_STATE, GROUP_TAG}) {
      counter(path, OK);
      counter(path, ERROR);
    }
    for (String path : new String[] {SPOT_ACTION, REBALANCE, LIFE_CYCLE}) {
      counter(path, OK);
      counter(path, ERROR);
    }
    counter(TARGET_STATE, NOT_FOUND);
    counter(GROUP_TAG, NOT_FOUND);
    counter(SPOT_ACTION, NOT_FOUND);
    counter(REBALANCE, NOT_FOUND);
    counter(LIFE_CYCLE, NOT_FOUND);
  }

  @Override
  public String instanceId() {
    return read(INSTANCE_ID, delegate::instanceId, v -> OK);
  }

  @Override
  public String region() {
    return read(REGION, delegate::region, v -> OK);
  }

  @Override
  public TargetLifecycleState targetLifecycleState() {
    return read(
        TARGET_STATE,
        delegate::targetLifecycleState,
        v -> v == TargetLifecycleState.NOT_IN_GROUP ? NOT_FOUND : OK);
  }

  @Override
  public Optional<String> autoScalingGroupFromTags() {
    return read(GROUP_TAG, delegate::autoScalingGroupFromTags, v -> v.isEmpty() ? NOT_FOUND : OK);
  }

  @Override
  public Optional<SpotNotice> spotInterruption() {
    return read(SPOT_ACTION, delegate::spotInterruption, v -> v.isEmpty() ? NOT_FOUND : OK);
  }

  @Override
  public Optional<SpotNotice> rebalanceRecommendation() {
    return read(REBALANCE, delegate::rebalanceRecommendation, v -> v.isEmpty() ? NOT_FOUND : OK);
  }

  @Override
  public Optional<String> purchasingOption() {
    return read(LIFE_CYCLE, delegate::purchasingOption, v -> v.isEmpty() ? NOT_FOUND : OK);
  }

  private <T> T read(String path, Supplier<T> op, Function<T, String> outcomeOf) {
    String outcome = ERROR;
    try {
      T answer = op.get();
      outcome = outcomeOf.apply(answer);
      return answer;
    } finally {
      counter(path, outcome).increment();
    }
  }

  private Counter counter(String path, String outcome) {
    return Counter.builder(AgentMetrics.IMDS_READS)
        .description("IMDS reads by path and outcome, after the adapter's retries")
        .tags(Tags.of("path", path, "outcome", outcome))
        .register(registry);
  }
}
