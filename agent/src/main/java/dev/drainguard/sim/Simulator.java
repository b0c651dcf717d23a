package dev.drainguard.sim;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The built-in simulator of IMDSv2 and the Auto Scaling termination lifecycle, over real HTTP on
 * 127.0.0.1, for {@code drainguard demo} and tests. The AWS SDK's {@code Ec2MetadataClient} and
 * {@code AutoScalingClient} can be pointed at {@link #imdsEndpoint()} and {@link
 * #autoScalingEndpoint()}.
 *
 * <p>Time comes only from the injected {@link Clock} and is applied lazily: before answering a
 * request or an observer call, every instance is advanced to {@code clock.instant()}, each timed
 * transition happening at its own due instant. A test can therefore jump a mutable clock by hours.
 *
 * <p>IMDS speaks for one instance: the first one added, or the one named by {@link
 * #setImdsInstance(String)}. Each group has at most one termination hook.
 */
public final class Simulator implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Simulator.class);

  /**
   * The JDK server writes response headers and body as two segments; without TCP_NODELAY, Nagle's
   * algorithm and the client's delayed ACK add ~40 ms to every request on a kept-alive connection.
   * The property is read once, when the first {@code HttpServer} of the JVM is created.
   */
  private static final String NODELAY_PROPERTY = "sun.net.httpserver.nodelay";

  static {
    if (System.getProperty(NODELAY_PROPERTY) == null) {
      System.setProperty(NODELAY_PROPERTY, "true");
    }
  }

  private final SimModel model;
  private final ImdsTokens tokens;
  private final ImdsHandler imds;
  private final AutoScalingHandler autoScaling;
  private final SimServers servers;
  private final AtomicBoolean closed = new AtomicBoolean();

  private Simulator(Clock clock) throws IOException {
    model = new SimModel(clock);
    tokens = new ImdsTokens(clock);
    imds = new ImdsHandler(model, tokens);
    autoScaling = new AutoScalingHandler(model);
    servers = new SimServers(imds, autoScaling);
    log.info("simulator started imds={} autoscaling={}", imdsEndpoint(), autoScalingEndpoint());
  }

  /** Starts both HTTP servers on 127.0.0.1, each on an ephemeral port. */
  public static Simulator start(Clock clock) {
    try {
      return new Simulator(clock);
    } catch (IOException e) {
      throw new UncheckedIOException("simulator failed to bind on " + SimServers.LOOPBACK, e);
    }
  }

  /** The IMDS base URI, e.g. {@code http://127.0.0.1:41234}. */
  public URI imdsEndpoint() {
    return servers.imdsEndpoint();
  }

  /** The Auto Scaling Query API base URI, e.g. {@code http://127.0.0.1:41235}. */
  public URI autoScalingEndpoint() {
    return servers.autoScalingEndpoint();
  }

  /** Stops both servers at once, dropping requests in flight. Closing twice does nothing. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    servers.close();
    log.info("simulator stopped");
  }

  /** Adds an Auto Scaling group with no hook. */
  public void addGroup(String groupName) {
    model.addGroup(groupName);
  }

  /**
   * Adds an InService instance. The first instance added is the one IMDS speaks for.
   *
   * @param groupName its group (added before), or {@code null} for an instance in no group
   * @param metadataTagsEnabled whether instance tags are in IMDS ({@code
   *     tags/instance/aws:autoscaling:groupName})
   */
  public void addInstance(
      String groupName, String instanceId, String region, boolean metadataTagsEnabled) {
    model.addInstance(groupName, instanceId, region, metadataTagsEnabled);
  }

  /** Makes IMDS speak for {@code instanceId} (added before) instead of the first instance. */
  public void setImdsInstance(String instanceId) {
    model.setImdsInstance(instanceId);
  }

  /**
   * Adds the group's termination hook ({@code autoscaling:EC2_INSTANCE_TERMINATING}). Its
   * GlobalTimeout is {@code min(48h, 100 × heartbeatTimeout)}. Unlike Auto Scaling, any positive
   * heartbeat timeout is accepted, so tests can use short ones.
   *
   * @param defaultResult {@code CONTINUE} or {@code ABANDON}, applied when a timeout ends the
   *     action
   */
  public void addTerminationHook(
      String groupName, String hookName, Duration heartbeatTimeout, String defaultResult) {
    model.addTerminationHook(groupName, hookName, heartbeatTimeout, defaultResult);
  }

  /**
   * PutLifecycleHook on a group that may be running: creates its termination hook (a hook added
   * after the group and its instances), or changes the HeartbeatTimeout and DefaultResult of the
   * hook of that name. The new values apply to actions that start from now on; an action already
   * active keeps the timeouts it started with. Like {@link #addTerminationHook}, any positive
   * timeout is accepted here; the Query API action checks AWS's 30 s to 7200 s.
   */
  public void putTerminationHook(
      String groupName, String hookName, Duration heartbeatTimeout, String defaultResult) {
    model.putTerminationHook(groupName, hookName, heartbeatTimeout, defaultResult);
  }

  /**
   * The time an instance spends in {@code Terminating} (load balancer deregistration) before its
   * hook's action starts, 0 to 3600 s (an ELB target group's range); applies to later {@link
   * #terminate(String)} calls. Default zero.
   */
  public void setDeregistrationDelay(Duration delay) {
    model.setDeregistrationDelay(delay);
  }

  /**
   * Starts the scale-in of an InService instance now: IMDS target-lifecycle-state reads {@code
   * Terminated} at once; the instance is {@code Terminating} for the deregistration delay, then
   * {@code Terminating:Wait} if its group has a termination hook, else {@code Terminated}.
   */
  public void terminate(String instanceId) {
    model.terminate(instanceId);
  }

  /**
   * Sets the group's instance lifecycle policy {@code RetentionTriggers.TerminateHookAbandon}: with
   * {@code retain}, a termination action that ends with ABANDON (CompleteLifecycleAction, or a
   * timeout whose DefaultResult is ABANDON) leaves the instance in {@code Terminating:Retained},
   * with no timeout, until TerminateInstanceInAutoScalingGroup. CONTINUE is never retained. Default
   * {@code false}: ABANDON terminates the instance.
   */
  public void setRetainOnTerminateHookAbandon(String groupName, boolean retain) {
    model.setRetainOnTerminateHookAbandon(groupName, retain);
  }

  /**
   * The group's desired capacity: the number of instances added to it, less one for each scale-in
   * ({@link #scaleIn(String)}) and each TerminateInstanceInAutoScalingGroup with {@code
   * ShouldDecrementDesiredCapacity=true}; never below zero.
   */
  public int desiredCapacity(String groupName) {
    return model.desiredCapacity(groupName);
  }

  /** Whether the instance is protected from scale-in (SetInstanceProtection); default false. */
  public boolean isProtected(String instanceId) {
    return model.isProtected(instanceId);
  }

  /**
   * Auto Scaling choosing an instance to scale in: the first InService instance of the group, in
   * the order added, that is not protected from scale-in, is terminated ({@link
   * #terminate(String)}) and the desired capacity decremented.
   *
   * @return the chosen instance; empty, with nothing changed, when no instance is eligible
   */
  public Optional<String> scaleIn(String groupName) {
    return model.scaleIn(groupName);
  }

  /** When the instance reached {@code Terminated}, by any path; empty before. */
  public Optional<Instant> terminatedAt(String instanceId) {
    return model.terminatedAt(instanceId);
  }

  /** The TerminateInstanceInAutoScalingGroup request accepted for the instance; empty before. */
  public Optional<Termination> termination(String instanceId) {
    return model.termination(instanceId);
  }

  /**
   * From now on, IMDS {@code spot/instance-action} of this instance answers {@code
   * {"action":"terminate","time":"2026-01-01T00:02:00Z"}} (time in UTC, whole seconds); 404 before.
   * Only the notice is modelled: the instance's lifecycle does not change.
   *
   * @param action {@code terminate}, {@code stop} or {@code hibernate}
   */
  public void spotInterruption(String instanceId, String action, Instant time) {
    model.spotInterruption(instanceId, action, time);
  }

  /**
   * From now on, IMDS {@code events/recommendations/rebalance} of this instance answers {@code
   * {"noticeTime":"2026-01-01T00:00:00Z"}}; 404 before.
   */
  public void rebalanceRecommendation(String instanceId, Instant noticeTime) {
    model.rebalanceRecommendation(instanceId, noticeTime);
  }

  /**
   * What IMDS {@code instance-life-cycle} of this instance answers: {@code on-demand} (every
   * instance starts so), {@code spot}, or any other word. Spot notices are refused for an on-demand
   * instance, as AWS sends it none.
   */
  public void setPurchasingOption(String instanceId, String option) {
    model.setPurchasingOption(instanceId, option);
  }

  /** How many GETs of {@code path} (e.g. {@code /latest/meta-data/instance-id}) IMDS has had. */
  public long imdsGets(String path) {
    return imds.gets(path);
  }

  /**
   * The instance's Auto Scaling lifecycle state now: {@code InService}, {@code Terminating}, {@code
   * Terminating:Wait}, {@code Terminating:Proceed}, {@code Terminating:Retained} or {@code
   * Terminated}.
   */
  public String lifecycleState(String instanceId) {
    return model.lifecycleState(instanceId);
  }

  /** How the instance's termination action ended; empty while it has not (or never had one). */
  public Optional<ActionEnd> actionEnd(String instanceId) {
    return model.actionEnd(instanceId);
  }

  /** Every Auto Scaling request so far, in the order answered. */
  public List<ApiCall> calls() {
    return autoScaling.calls();
  }

  /** The Auto Scaling requests so far whose {@code Action} is {@code action}. */
  public List<ApiCall> calls(String action) {
    return calls().stream().filter(c -> action.equals(c.action())).toList();
  }

  /**
   * From now on, for {@code length} starting {@code after} each termination action becomes active,
   * RecordLifecycleActionHeartbeat and CompleteLifecycleAction answer "No active Lifecycle Action
   * found" (nothing is recorded) while the action is active, its timeouts running and
   * DescribeAutoScalingInstances saying {@code Terminating:Wait}: the brief error AWS gives around
   * the transition. A zero length turns it off (the default).
   */
  public void setActionBlip(Duration after, Duration length) {
    model.setActionBlip(after, length);
  }

  /**
   * Calls of {@code action} received while the simulator's clock is in {@code [from, until)} answer
   * HTTP 400 {@code Throttling} "Rate exceeded", without touching the model, e.g.
   * DescribeAutoScalingInstances throttled at the moment an agent asks why its action is not
   * active. Windows add up; {@link #failApi} faults come first.
   */
  public void throttleApi(String action, Instant from, Instant until) {
    autoScaling.throttleBetween(action, from, until);
  }

  /**
   * From now on, the instance IMDS speaks for has an instance profile: {@code
   * iam/security-credentials/} answers {@code role}, and {@code iam/security-credentials/<role>}
   * answers these keys with {@code "Code" : "Success"} and {@code expiration} (UTC, whole seconds).
   * Called again, the next read gets the new keys, as when EC2 rotates them. Default: none (404).
   */
  public void setInstanceProfile(
      String role,
      String accessKeyId,
      String secretAccessKey,
      String sessionToken,
      Instant expiration) {
    imds.setInstanceProfile(
        Optional.of(
            new ImdsHandler.InstanceProfile(
                role, "Success", accessKeyId, secretAccessKey, sessionToken, expiration)));
  }

  /**
   * From now on, the instance profile's document answers {@code code} (e.g. {@code
   * AssumeRoleUnauthorizedAccess}) and a message, with no keys: EC2 cannot assume the role.
   */
  public void failInstanceProfile(String role, String code) {
    imds.setInstanceProfile(
        Optional.of(new ImdsHandler.InstanceProfile(role, code, "", "", "", Instant.EPOCH)));
  }

  /** From now on, no instance profile: {@code iam/security-credentials/} answers 404. */
  public void removeInstanceProfile() {
    imds.setInstanceProfile(Optional.empty());
  }

  /** Revokes every IMDS token issued so far: GETs carrying one answer 401. */
  public void revokeImdsTokens() {
    tokens.revokeAll();
  }

  /** The next {@code times} IMDS GETs (not token PUTs) answer {@code httpStatus}, e.g. 500. */
  public void failImds(int times, int httpStatus) {
    imds.failNext(times, httpStatus);
  }

  /**
   * While {@code false}, IMDS drops every request by closing the connection without a response, so
   * clients see an I/O error; {@code true} restores it.
   */
  public void setImdsAvailable(boolean up) {
    imds.setAvailable(up);
  }

  /**
   * The next {@code times} calls of {@code action} answer an {@code ErrorResponse} with {@code
   * httpStatus}, {@code code} and {@code message} (Type {@code Receiver} for 5xx, else {@code
   * Sender}), without touching the model. Replaces an earlier fault for the same action.
   */
  public void failApi(String action, int times, int httpStatus, String code, String message) {
    autoScaling.failNext(action, times, httpStatus, code, message);
  }

  /**
   * The next {@code times} IMDS requests (token PUTs included) are answered only after {@code
   * latency} of real time: a slow metadata service, so that the client's read timeout can fire.
   */
  public void delayImds(int times, Duration latency) {
    imds.delayNext(times, latency);
  }

  /**
   * Calls {@code listener} with the path and the latency of each delayed IMDS request once its
   * delay is over (before it is answered): a test on a controllable clock moves the clock by the
   * latency, so that a slow answer takes clock time as it takes real time.
   */
  public void afterImdsDelay(BiConsumer<String, Duration> listener) {
    imds.afterDelay(listener);
  }

  /**
   * While {@code true}, nothing listens on the IMDS port: connections are refused, as when the
   * metadata service is off or firewalled. {@code false} listens again on the same port.
   */
  public void setImdsRefusing(boolean refusing) {
    servers.setImdsRefusing(refusing);
  }

  /**
   * The next {@code times} IMDS GETs (not token PUTs) answer 200 with {@code body} instead of the
   * value, e.g. garbage or a truncated JSON document: a malformed response.
   */
  public void corruptImds(int times, String body) {
    imds.corruptNext(times, body);
  }

  /**
   * The next {@code times} calls of {@code action} are carried out as usual, but their response is
   * sent only after {@code latency} of real time: the client may have given up by then, so the call
   * took effect while its answer was lost. Replaces an earlier delay or corruption for the action.
   */
  public void delayApi(String action, int times, Duration latency) {
    autoScaling.delayNext(action, times, latency);
  }

  /**
   * The next {@code times} calls of {@code action} are carried out as usual, but answered 200 with
   * {@code body} instead of the action's XML, e.g. a truncated document: a malformed response.
   * Replaces an earlier delay or corruption for the action.
   */
  public void corruptApi(String action, int times, String body) {
    autoScaling.corruptNext(action, times, body);
  }
}
