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

  /**
   * The spot interruption notice ({@code spot/instance-action}); empty when there is none (404), as
   * on every on-demand instance.
   */
  Optional<SpotNotice> spotInterruption();

  /** The rebalance recommendation ({@code events/recommendations/rebalance}); empty on 404. */
  Optional<SpotNotice> rebalanceRecommendation();

  /**
   * The instance's purchasing option ({@code instance-life-cycle}): {@code on-demand}, {@code
   * spot}, or another word AWS may add; fixed for the life of the instance. Spot interruption and
   * rebalance notices come only to spot instances. Empty when IMDS does not say (404), and in this
   * default, for ports that cannot tell: then nothing is known and every notice is read. Asked
   * once, without retries: nothing waits on it, and the caller asks again later.
   */
  default Optional<String> purchasingOption() {
    return Optional.empty();
  }

  /**
   * Asks once, without retries, for a session token ({@code PUT /latest/api/token}) and says how
   * that went, for {@code drainguard check}: a PUT that is sent but never answered (the PUT
   * response hop limit, in a container) must be told apart from a service that is not there. This
   * default, for ports that cannot tell, reads the instance id instead.
   */
  default TokenProbe probeToken() {
    try {
      instanceId();
      return new TokenProbe(TokenProbe.Outcome.ISSUED, "instance id read with a token");
    } catch (ImdsException e) {
      return new TokenProbe(TokenProbe.Outcome.FAILED, e.getMessage());
    }
  }

  /**
   * How one token request went.
   *
   * @param detail one line for the operator: the request, and the status or error
   */
  record TokenProbe(Outcome outcome, String detail) {

    /** The kinds of answer that call for different fixes. */
    public enum Outcome {
      ISSUED,
      /** Sent, and no answer within the read timeout: the PUT response hop limit, typically. */
      NO_ANSWER,
      /** Answered with an HTTP error status. */
      REJECTED,
      /** No HTTP answer: connection refused or dropped, host unreachable. */
      FAILED
    }
  }
}
