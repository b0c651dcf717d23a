package dev.drainguard.imds;

import java.util.Optional;

/**
 * The subset of the EC2 instance metadata service (IMDSv2) that the agent reads.
 *
 * <p>Implementations retry transient failures themselves; a call that still fails throws {@link
 * ImdsException}.
 */
public interface InstanceMetadata {

  String instanceId();

  String region();

  /** The state this instance is moving to in its Auto Scaling group. */
  TargetLifecycleState targetLifecycleState();

  /**
   * The Auto Scaling group named by the instance tag {@code aws:autoscaling:groupName}; empty when
   * instance metadata tags are not enabled for this instance.
   */
  Optional<String> autoScalingGroupFromTags();
}
