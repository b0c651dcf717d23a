package dev.drainguard.drain;

import dev.drainguard.imds.InstanceMetadata;
import dev.drainguard.imds.SpotNotice;
import dev.drainguard.imds.TargetLifecycleState;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * An {@link InstanceMetadata} that forwards every read to another through {@link #read}: a test
 * overrides that (to time or fail every read) or one read.
 */
class ForwardingImds implements InstanceMetadata {

  private final InstanceMetadata to;

  ForwardingImds(InstanceMetadata to) {
    this.to = to;
  }

  /** One read: {@code op} forwards it. */
  <T> T read(Supplier<T> op) {
    return op.get();
  }

  @Override
  public String instanceId() {
    return read(to::instanceId);
  }

  @Override
  public String region() {
    return read(to::region);
  }

  @Override
  public TargetLifecycleState targetLifecycleState() {
    return read(to::targetLifecycleState);
  }

  @Override
  public Optional<String> autoScalingGroupFromTags() {
    return read(to::autoScalingGroupFromTags);
  }

  @Override
  public Optional<SpotNotice> spotInterruption() {
    return read(to::spotInterruption);
  }

  @Override
  public Optional<SpotNotice> rebalanceRecommendation() {
    return read(to::rebalanceRecommendation);
  }

  @Override
  public Optional<String> purchasingOption() {
    return read(to::purchasingOption);
  }
}
