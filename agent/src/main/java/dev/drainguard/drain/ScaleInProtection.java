package dev.drainguard.drain;

import dev.drainguard.drain.Intent.CallKind;
import dev.drainguard.lifecycle.LifecycleHookRef;
import dev.drainguard.queue.QueueSnapshot;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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
  private final LifecycleHookRef ref;

  private boolean protectedByUs;
  private Instant changedAt;
  private Instant busySince;
  private String lastError;
  private Boolean wanted;
  private long bytesAsked;

  ScaleInProtection(ProtectionSettings settings, Duration quietPeriod, LifecycleHookRef ref) {
    this.settings = settings;
    this.quietPeriod = quietPeriod;
    this.ref = ref;
    // An instance found protected at start was protected by an earlier run of this agent (with
    // protect-while-busy on, protection is the agent's to manage): it must be given back later.
    this.protectedByUs = settings.enabled() && settings.initiallyProtected();
  }

  /**
   * Evaluated at every step while the instance is in service; asks for a protection change through
   * {@code calls}, whose answer comes back to {@link #onCall}.
   *
   * @param lastNotEmpty the last instant the queues were not empty
   */
  void evaluate(Instant now, QueueSnapshot s, Instant lastNotEmpty, Calls calls, List<Intent> out) {
    if (!settings.enabled() || s.anyError()) {
      return; // unknown is neither busy nor idle: leave the protection as it is
    }
    boolean busy = s.totalBytes() > settings.thresholdBytes();
    busySince = busy ? (busySince == null ? now : busySince) : null;
    if (!intervalOver(now)) {
      return;
    }
    if (!protectedByUs && busy && !now.isBefore(busySince.plus(settings.after()))) {
      ask(now, true, s, calls, out);
    } else if (protectedByUs && s.empty() && !now.isBefore(lastNotEmpty.plus(quietPeriod))) {
      ask(now, false, s, calls, out);
    }
  }

  private boolean intervalOver(Instant now) {
    return changedAt == null || !now.isBefore(changedAt.plus(settings.interval()));
  }

  /** The next instant an evaluation could change something, when one is coming. */
  Optional<Instant> nextDue(Instant now, Instant lastNotEmpty) {
    if (!settings.enabled()) {
      return Optional.empty();
    }
    List<Instant> due = new ArrayList<>();
    if (changedAt != null) {
      due.add(changedAt.plus(settings.interval()));
    }
    if (busySince != null) {
      due.add(busySince.plus(settings.after()));
    }
    if (protectedByUs) {
      due.add(lastNotEmpty.plus(quietPeriod));
    }
    return due.stream().filter(now::isBefore).min(Instant::compareTo);
  }

  private void ask(Instant now, boolean protect, QueueSnapshot s, Calls calls, List<Intent> out) {
    if (calls.start(protect ? CallKind.PROTECT : CallKind.UNPROTECT, now, out)) {
      wanted = protect;
      bytesAsked = s.totalBytes();
    }
  }

  /** How a protection change ended. */
  void onCall(CallKind kind, Event.CallResult result, Instant now, Calls calls) {
    boolean protect = kind == CallKind.PROTECT;
    if (wanted == null || wanted != protect) {
      return;
    }
    wanted = null;
    if (result instanceof Event.CallResult.Failed f) {
      lastError = f.message();
      calls.coolDown(kind, now.plus(Termination.CALL_RETRY));
      log.warn("scale-in protection={} failed, will retry: {}", protect, f.message());
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
        bytesAsked,
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
