package dev.drainguard.drain;

import dev.drainguard.lifecycle.LifecycleHookRef;
import dev.drainguard.queue.DrainedWhen;
import dev.drainguard.queue.QueueSnapshot;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Runs the real {@link DrainController} against the fakes of its ports, synchronously: every intent
 * is carried out at once (calls through {@link Effects#perform}, a confirmation as a rescan of the
 * fake queues) and its outcome fed back as an event at the same instant, until nothing is left.
 * IMDS is polled at the poll interval as the agent's poller does. Tests read it like the agent.
 */
final class Driver {

  private final DrainController controller;
  private final FakePorts.Imds imds;
  private final FakePorts.Queues queues;
  private final FakePorts.Commands commands;
  private final Clock clock;
  private final Duration poll;
  private final Effects effects;
  private final ImdsPoller poller;
  private final Deque<Event> pending = new ArrayDeque<>();
  private final List<Running> running = new ArrayList<>();
  private Instant nextPoll = Instant.MIN;
  private long seq;
  private QueueSnapshot published;

  /** While set, a confirmation's answer is numbered and read when asked, but held back. */
  private boolean holdConfirms;

  private final Deque<Event> heldConfirms = new ArrayDeque<>();

  private record Running(String name, CompletableFuture<CommandRunner.CommandResult> future) {}

  Driver(
      DrainSettings settings,
      LifecycleHookRef ref,
      dev.drainguard.lifecycle.TerminationHook hook,
      FakePorts.Imds imds,
      FakePorts.Api api,
      FakePorts.Queues queues,
      FakePorts.Commands commands,
      Clock clock,
      java.util.function.Consumer<DrainStatus> listener) {
    this.imds = imds;
    this.queues = queues;
    this.commands = commands;
    this.clock = clock;
    this.poll = settings.imdsPollInterval();
    this.controller =
        new DrainController(
            settings,
            ref,
            hook,
            DrainedWhen.ALL,
            Map.of(),
            queues.snapshot(),
            clock.instant(),
            Duration.ofSeconds(5),
            listener,
            new java.util.SplittableRandom(1)); // the back-off's jitter, the same every run
    this.effects =
        new Effects(
            api,
            commands,
            () -> CompletableFuture.completedFuture(null),
            null,
            Duration.ofSeconds(30),
            e -> {});
    this.poller =
        new ImdsPoller(
            imds,
            poll,
            clock,
            java.util.Optional.empty(),
            () -> true,
            () -> controller.status().phase() == Phase.IN_SERVICE,
            e -> {});
  }

  DrainController controller() {
    return controller;
  }

  void stop() {
    controller.stop();
  }

  DrainStatus status() {
    return controller.status();
  }

  /** Polls IMDS when due, takes in ended commands, then steps until nothing is pending. */
  void tick() {
    QueueSnapshot q = queues.snapshot();
    if (published == null || !q.sameReadings(published) || q.empty() != published.empty()) {
      onQueues(q); // as the watcher does: it publishes every change it sees
    }
    Instant now = clock.instant();
    if (!now.isBefore(nextPoll) && !controller.status().phase().terminal()) {
      nextPoll = now.plus(poll);
      pending.add(poller.poll());
    }
    running.removeIf(
        r -> {
          if (!r.future().isDone()) {
            return false;
          }
          pending.add(new Event.CommandEnded(r.name(), r.future().join()));
          return true;
        });
    pending.add(new Event.Wake());
    drain();
  }

  /** The watcher published {@code s}. */
  void onQueues(QueueSnapshot s) {
    published = s;
    pending.add(new Event.FilesRead(s, ++seq, false));
    drain();
  }

  /**
   * From now on a confirmation's rescan is numbered and read when asked (as ProbeSet.confirm does)
   * but its answer is held back until {@link #deliverHeldConfirms}: a slow confirming thread.
   */
  void holdConfirms(boolean on) {
    holdConfirms = on;
  }

  /** How many confirmation answers are held back. */
  int heldConfirms() {
    return heldConfirms.size();
  }

  /** The held answers reach the controller now, after everything told meanwhile. */
  void deliverHeldConfirms() {
    pending.addAll(heldConfirms);
    heldConfirms.clear();
    drain();
  }

  ControlResult hold(String reason) {
    ControlResult r = controller.hold(reason, clock.instant());
    pending.add(new Event.Wake());
    drain();
    return r;
  }

  ControlResult release(boolean force, String reason) {
    ControlResult r = controller.release(force, reason, clock.instant());
    pending.add(new Event.Wake());
    drain();
    return r;
  }

  private void drain() {
    while (!pending.isEmpty()) {
      Event e = pending.poll();
      for (Intent i : controller.step(e, clock.instant())) {
        carryOut(i);
      }
    }
  }

  private void carryOut(Intent i) {
    if (i instanceof Intent.Call c) {
      pending.add(new Event.CallEnded(c.kind(), effects.perform(c.kind(), c.ref())));
    } else if (i instanceof Intent.Confirm) {
      Event answer = new Event.FilesRead(queues.snapshot(), ++seq, true);
      (holdConfirms ? heldConfirms : pending).add(answer);
    } else if (i instanceof Intent.RunCommand r) {
      running.add(
          new Running(r.name(), commands.start(r.name(), r.command(), r.env(), r.timeout())));
    }
  }
}
