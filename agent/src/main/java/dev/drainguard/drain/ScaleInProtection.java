package dev.drainguard.drain;

import dev.drainguard.lifecycle.LifecycleActions;
import dev.drainguard.lifecycle.LifecycleApiException;
import dev.drainguard.lifecycle.LifecycleHookRef;
import dev.drainguard.queue.QueueSnapshot;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scale-in protection while busy: an instance whose queues have held more than the threshold for a
 * while asks Auto Scaling not to choose it for scale-in (SetInstanceProtection), and gives the
 * protection back once the queues have drained for the quiet period. At most one change per
 * interval, so a queue that flaps around the threshold does not flap the API. It only ever removes
 * a protection it set itself.
 */
final class ScaleInProtection {

  private static final Logger log = LoggerFactory.getLogger(ScaleInProtection.class);

  private final ProtectionSettings settings;
  private final Duration quietPeriod;
  private final LifecycleActions api;
  private final LifecycleHookRef ref;

  private boolean protectedByUs;
  private Instant changedAt;
  private Instant busySince;
  private Instant nextTry = Instant.MIN;
  private String lastError;

  ScaleInProtection(
      ProtectionSettings settings,
      Duration quietPeriod,
      LifecycleActions api,
      LifecycleHookRef ref) {
    this.settings = settings;
    this.quietPeriod = quietPeriod;
    this.api = api;
    this.ref = ref;
    // An instance found protected at start was protected by an earlier run of this agent (with
    // protect-while-busy on, protection is the agent's to manage): it must be given back later.
    this.protectedByUs = settings.enabled() && settings.initiallyProtected();
  }

  /** Evaluated on every tick while the instance is in service. */
  void evaluate(Instant now, QueueSnapshot s, Optional<Instant> emptySince) {
    if (!settings.enabled() || s.anyError()) {
      return; // unknown is neither busy nor idle: leave the protection as it is
    }
    boolean busy = s.totalBytes() > settings.thresholdBytes();
    busySince = busy ? (busySince == null ? now : busySince) : null;
    boolean intervalOver = changedAt == null || !now.isBefore(changedAt.plus(settings.interval()));
    if (!intervalOver || now.isBefore(nextTry)) {
      return;
    }
    if (!protectedByUs && busy && !now.isBefore(busySince.plus(settings.after()))) {
      change(now, true, s);
    } else if (protectedByUs
        && s.empty()
        && emptySince.isPresent()
        && !now.isBefore(emptySince.get().plus(quietPeriod))) {
      change(now, false, s);
    }
  }

  private void change(Instant now, boolean protect, QueueSnapshot s) {
    try {
      api.setProtection(ref.groupName(), ref.instanceId(), protect);
    } catch (LifecycleApiException e) {
      lastError = e.getMessage();
      nextTry = now.plus(DrainController.CALL_RETRY);
      log.warn("scale-in protection={} failed, will retry: {}", protect, e.getMessage());
      return;
    }
    protectedByUs = protect;
    changedAt = now;
    lastError = null;
    log.info(
        "scale-in protection {} asg={} instance={} queuedBytes={} threshold={}",
        protect ? "set" : "removed",
        ref.groupName(),
        ref.instanceId(),
        s.totalBytes(),
        settings.thresholdBytes());
  }

  /** True while this agent holds the instance protected from scale-in. */
  boolean active() {
    return protectedByUs;
  }

  Optional<Instant> changedAt() {
    return Optional.ofNullable(changedAt);
  }

  Optional<String> lastError() {
    return Optional.ofNullable(lastError);
  }

  boolean enabled() {
    return settings.enabled();
  }
}
