package dev.drainguard.drain;

import dev.drainguard.imds.ImdsException;
import dev.drainguard.imds.InstanceMetadata;
import dev.drainguard.imds.SpotNotice;
import dev.drainguard.imds.TargetLifecycleState;
import dev.drainguard.lifecycle.ActionOutcome;
import dev.drainguard.lifecycle.GroupMembership;
import dev.drainguard.lifecycle.LifecycleActions;
import dev.drainguard.lifecycle.LifecycleApiException;
import dev.drainguard.lifecycle.LifecycleHookRef;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.lifecycle.TerminationHook;
import dev.drainguard.queue.QueueProbe;
import dev.drainguard.queue.QueueSnapshot;
import dev.drainguard.queue.RootStatus;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** Hand-written fakes of the controller's ports, scripted by each test. */
final class FakePorts {

  private FakePorts() {}

  static final class Imds implements InstanceMetadata {
    volatile TargetLifecycleState state = TargetLifecycleState.IN_SERVICE;
    volatile boolean failing;
    Optional<String> tagGroup = Optional.empty();

    @Override
    public String instanceId() {
      return "i-1";
    }

    @Override
    public String region() {
      return "eu-west-1";
    }

    @Override
    public TargetLifecycleState targetLifecycleState() {
      if (failing) {
        throw new ImdsException("IMDS GET target-lifecycle-state failed", null);
      }
      return state;
    }

    @Override
    public Optional<String> autoScalingGroupFromTags() {
      return tagGroup;
    }

    volatile Optional<SpotNotice> spot = Optional.empty();
    volatile Optional<SpotNotice> rebalance = Optional.empty();

    @Override
    public Optional<SpotNotice> spotInterruption() {
      return spot;
    }

    @Override
    public Optional<SpotNotice> rebalanceRecommendation() {
      return rebalance;
    }
  }

  /** Records calls; answers from a script of outcomes, then from {@link #otherwise}. */
  static final class Api implements LifecycleActions {
    final List<String> calls = new ArrayList<>();
    final Deque<Object> script = new ArrayDeque<>();
    ActionOutcome otherwise = ActionOutcome.ACCEPTED;
    List<TerminationHook> hooks = List.of();
    Optional<GroupMembership> membership = Optional.empty();

    @Override
    public ActionOutcome heartbeat(LifecycleHookRef ref) {
      calls.add("heartbeat");
      return answer();
    }

    /** When set, every complete call throws it (heartbeats still answer). */
    RuntimeException completeFails;

    @Override
    public ActionOutcome complete(LifecycleHookRef ref, LifecycleResult result) {
      calls.add("complete:" + result);
      if (completeFails != null) {
        throw completeFails;
      }
      return answer();
    }

    /** Lifecycle states describeInstance answers after an ABANDON, in order. */
    final Deque<String> statesAfterAbandon = new ArrayDeque<>();

    RuntimeException protectionFails;

    @Override
    public void terminateInstance(String instanceId) {
      calls.add("terminate:" + instanceId);
    }

    @Override
    public void setProtection(String groupName, String instanceId, boolean protectedFromScaleIn) {
      calls.add("protect:" + protectedFromScaleIn);
      if (protectionFails != null) {
        throw protectionFails;
      }
    }

    @Override
    public List<TerminationHook> terminationHooks(String groupName) {
      calls.add("hooks:" + groupName);
      return hooks;
    }

    @Override
    public Optional<GroupMembership> describeInstance(String instanceId) {
      calls.add("describe:" + instanceId);
      String state = statesAfterAbandon.poll();
      return state == null ? membership : Optional.of(new GroupMembership("asg", state));
    }

    private ActionOutcome answer() {
      Object next = script.isEmpty() ? otherwise : script.poll();
      if (next instanceof RuntimeException e) {
        throw e;
      }
      return (ActionOutcome) next;
    }

    long count(String call) {
      return calls.stream().filter(call::equals).count();
    }

    static LifecycleApiException throttled() {
      return new LifecycleApiException(
          "heartbeat: Throttling after 4 attempts", "Throttling", null);
    }
  }

  /** A probe whose snapshot the test sets; taken at the clock's time when set. */
  static final class Queues implements QueueProbe {
    private final Clock clock;
    private volatile QueueSnapshot snapshot;

    Queues(Clock clock) {
      this.clock = clock;
      set(0, 0);
    }

    void set(long files, long bytes) {
      RootStatus r =
          new RootStatus(Path.of("/q"), files, bytes, Optional.empty(), Optional.empty());
      snapshot = new QueueSnapshot(clock.instant(), List.of(r), files == 0);
    }

    void fail(String error) {
      RootStatus r = new RootStatus(Path.of("/q"), 0, 0, Optional.empty(), Optional.of(error));
      snapshot = new QueueSnapshot(clock.instant(), List.of(r), false);
    }

    /** As the real watcher: the latest judgement, stamped with the time it is read. */
    @Override
    public QueueSnapshot snapshot() {
      QueueSnapshot s = snapshot;
      return new QueueSnapshot(clock.instant(), s.roots(), s.empty());
    }

    @Override
    public void close() {}
  }

  /** Commands that finish when the test says so. */
  static final class Commands implements CommandRunner {
    final List<String> started = new ArrayList<>();
    final List<Map<String, String>> envs = new ArrayList<>();
    CompletableFuture<CommandResult> pending;

    @Override
    public CompletableFuture<CommandResult> start(
        String name, String command, Map<String, String> env, java.time.Duration timeout) {
      started.add(name + ":" + command);
      envs.add(env);
      pending = new CompletableFuture<>();
      return pending;
    }

    void finish(int exitCode) {
      pending.complete(new CommandResult(exitCode, false, java.time.Duration.ofSeconds(1), null));
    }
  }
}
