package dev.drainguard.cli;

import dev.drainguard.drain.DrainStatus;
import dev.drainguard.drain.Phase;
import dev.drainguard.sim.ActionEnd;
import dev.drainguard.sim.Simulator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The scripts of {@code drainguard demo}: what the writer, the consumer and Auto Scaling do in each
 * scenario, and how the scenario judges its own ending.
 */
final class DemoScenarios {

  /** How a scenario ended: whether as it should, and what its JSON summary adds. */
  record Outcome(boolean ok, DrainStatus end, Map<String, Object> summary) {}

  /** The second worker of the protection scenario, idle, so Auto Scaling may take it. */
  static final String IDLE_INSTANCE = "i-0d3m0c0ffee000002";

  private final DemoCommand demo;
  private final Simulator sim;
  private final Agent agent;
  private final Path queue;
  private final Path dir;

  DemoScenarios(DemoCommand demo, Simulator sim, Agent agent, Path queue, Path dir) {
    this.demo = demo;
    this.sim = sim;
    this.agent = agent;
    this.queue = queue;
    this.dir = dir;
  }

  Outcome scaleIn() throws IOException {
    fill();
    terminate();
    demo.await(agent, s -> s.phase() == Phase.HOLDING && s.heartbeats() >= 2, "holding");
    consume();
    DrainStatus end = demo.await(agent, s -> s.phase().terminal(), "the drain ends");
    Optional<ActionEnd> simEnd = sim.actionEnd(DemoCommand.INSTANCE);
    String state = sim.lifecycleState(DemoCommand.INSTANCE);
    demo.say(
        "simulator: lifecycle action %s, instance %s",
        simEnd.map(e -> e.kind() + " " + e.result()).orElse("still open"), state);
    boolean ok =
        end.phase() == Phase.COMPLETED
            && end.bytesAtEnd() == 0
            && simEnd
                .map(e -> e.kind() == ActionEnd.Kind.COMPLETED && "CONTINUE".equals(e.result()))
                .orElse(false);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("drainedToCompleteMillis", millis(end.emptySince(), end.endedAt()));
    m.put("heldMillis", millis(end.actionActiveSince(), end.endedAt()));
    m.put("quietPeriodMillis", DemoCommand.QUIET.toMillis());
    m.put("instanceState", state);
    return new Outcome(ok, end, m);
  }

  Outcome retention() throws IOException {
    fill();
    demo.say(
        "the destination stays down; policy retain with max-hold %s stands in for the 48 h limit",
        DemoCommand.RETENTION_MAX_HOLD);
    terminate();
    demo.await(agent, s -> s.phase() == Phase.RETAINED, "ABANDON into retention");
    demo.await(agent, s -> retained(), "Terminating:Retained");
    demo.say(
        "simulator: instance %s is %s: out of desired capacity, with no time limit",
        DemoCommand.INSTANCE, sim.lifecycleState(DemoCommand.INSTANCE));
    demo.pause(Duration.ofSeconds(2));
    consume();
    DrainStatus end = demo.await(agent, s -> s.phase().terminal(), "the retained instance ends");
    String state = sim.lifecycleState(DemoCommand.INSTANCE);
    demo.say(
        "simulator: TerminateInstanceInAutoScalingGroup %s, instance %s",
        sim.termination(DemoCommand.INSTANCE)
            .map(t -> "at " + t.at() + ", desired capacity kept")
            .orElse("never called"),
        state);
    boolean ok =
        end.phase() == Phase.COMPLETED
            && end.bytesAtEnd() == 0
            && end.retainedSince().isPresent()
            && sim.termination(DemoCommand.INSTANCE).isPresent()
            && "Terminated".equals(state);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("retainedMillis", millis(end.retainedSince(), end.endedAt()));
    m.put("instanceState", state);
    return new Outcome(ok, end, m);
  }

  Outcome protection() throws IOException {
    fill();
    demo.await(agent, DrainStatus::scaleInProtected, "scale-in protection");
    demo.say("scale-in: Auto Scaling picks one of %s and %s", DemoCommand.INSTANCE, IDLE_INSTANCE);
    Optional<String> chosen = sim.scaleIn(DemoCommand.GROUP);
    demo.say(
        "simulator: Auto Scaling chose %s; the busy worker %s was skipped",
        chosen.orElse("nothing"), DemoCommand.INSTANCE);
    consume();
    DrainStatus end =
        demo.await(
            agent,
            s -> !s.scaleInProtected() && s.queues().empty(),
            "protection given back after the drain");
    int changes = sim.calls("SetInstanceProtection").size();
    demo.say("simulator: %d SetInstanceProtection calls, the worker stays in service", changes);
    boolean ok =
        chosen.equals(Optional.of(IDLE_INSTANCE))
            && end.phase() == Phase.IN_SERVICE
            && changes == 2
            && !sim.isProtected(DemoCommand.INSTANCE);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("result", ok ? "NOT_CHOSEN" : "CHOSEN");
    m.put("scaleInChose", chosen.orElse(null));
    m.put("protectionChanges", changes);
    m.put("instanceState", sim.lifecycleState(DemoCommand.INSTANCE));
    return new Outcome(ok, end, m);
  }

  Outcome spot() throws IOException {
    fill();
    Instant now = Instant.now();
    demo.say("spot: IMDS recommends a rebalance (interruption risk is elevated)");
    sim.rebalanceRecommendation(DemoCommand.INSTANCE, now);
    demo.await(agent, s -> s.eventCommands().size() == 1, "the command for the rebalance");
    demo.pause(Duration.ofSeconds(2));
    demo.say("spot: IMDS gives the two-minute interruption notice");
    sim.spotInterruption(DemoCommand.INSTANCE, "terminate", Instant.now().plusSeconds(120));
    DrainStatus end = demo.await(agent, s -> s.phase() == Phase.INTERRUPTED, "the interruption");
    demo.await(agent, s -> flushLines().size() == 2, "the command for the interruption");
    for (String line : flushLines()) {
      demo.say("flush command: %s", line);
    }
    boolean ok =
        end.phase() == Phase.INTERRUPTED
            && end.eventCommands().equals(List.of("rebalance-recommendation", "spot-interruption"))
            && flushLines().size() == 2;
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("result", "INTERRUPTED");
    m.put("commandsRun", end.eventCommands());
    m.put("interruptionAction", end.spotInterruption().map(n -> n.action()).orElse(null));
    return new Outcome(ok, end, m);
  }

  /** The demo's on-termination command: it logs the event it was run for. */
  static String flushCommand(Path dir) {
    return "echo \"$DRAINGUARD_EVENT: would flush $DRAINGUARD_QUEUED_BYTES bytes of"
        + " $DRAINGUARD_INSTANCE_ID\" >> "
        + dir.resolve("flush.log");
  }

  private List<String> flushLines() {
    try {
      Path log = dir.resolve("flush.log");
      return Files.exists(log) ? Files.readAllLines(log) : List.of();
    } catch (IOException e) {
      return List.of();
    }
  }

  private boolean retained() {
    return "Terminating:Retained".equals(sim.lifecycleState(DemoCommand.INSTANCE));
  }

  Outcome atRisk() throws IOException {
    fill();
    terminate();
    demo.await(agent, s -> s.phase() == Phase.HOLDING, "holding");
    demo.say(
        "consumer: the destination is back but slow, one file every %ss; max-hold is %s",
        DemoCommand.SLOW_CONSUME_EVERY.toSeconds(), DemoCommand.AT_RISK_MAX_HOLD);
    Thread consumer = new Thread(this::consumeSlowly, "demo-slow-consumer");
    consumer.setDaemon(true);
    consumer.start();
    DrainStatus warned =
        demo.await(
            agent,
            s -> s.atRiskWarnedAt().isPresent() || s.phase().terminal(),
            "the forecast warns");
    demo.say("agent: %s, status AT RISK", warned.forecast().describe());
    DrainStatus end = demo.await(agent, s -> s.phase().terminal(), "the deadline");
    consumer.interrupt();
    boolean ok = warned.atRiskWarnedAt().isPresent() && end.phase() == Phase.EXPIRED;
    Map<String, Object> m = new LinkedHashMap<>();
    m.put(
        "forecastBytesAtRisk",
        warned.forecast().bytesAtRisk().isPresent()
            ? warned.forecast().bytesAtRisk().getAsLong()
            : null);
    m.put("atRiskWarnedAfterMillis", millis(warned.noticedAt(), warned.atRiskWarnedAt()));
    m.put("bytesAtDeadline", end.bytesAtEnd());
    return new Outcome(ok, end, m);
  }

  private void consumeSlowly() {
    try (Stream<Path> files = Files.list(queue)) {
      for (Path f : files.sorted().toList()) {
        demo.pause(DemoCommand.SLOW_CONSUME_EVERY);
        if (Thread.currentThread().isInterrupted()) {
          return;
        }
        Files.deleteIfExists(f);
      }
    } catch (IOException e) {
      demo.say("consumer stopped: %s", e.getMessage());
    }
  }

  private void fill() throws IOException {
    demo.say(
        "writer: the destination is down; %d files of %s pile up in the queue",
        DemoCommand.FILES, DemoCommand.size(DemoCommand.FILE_BYTES));
    for (int i = 0; i < DemoCommand.FILES; i++) {
      Files.write(queue.resolve(String.format("%05d.pq", i)), new byte[DemoCommand.FILE_BYTES]);
    }
    demo.await(
        agent, s -> s.queues().totalFiles() == DemoCommand.FILES, "the agent sees the queue");
  }

  private void terminate() {
    demo.say(
        "scale-in: Auto Scaling starts terminating %s (load balancer deregistration %ss)",
        DemoCommand.INSTANCE, DemoCommand.DEREGISTRATION.toSeconds());
    sim.terminate(DemoCommand.INSTANCE);
  }

  private void consume() throws IOException {
    demo.say("consumer: the destination is back; the queue drains one file at a time");
    try (Stream<Path> files = Files.list(queue)) {
      for (Path f : files.sorted().toList()) {
        demo.pause(DemoCommand.CONSUME_EVERY);
        Files.delete(f);
      }
    }
  }

  private static Long millis(Optional<Instant> from, Optional<Instant> to) {
    return from.flatMap(f -> to.map(t -> Duration.between(f, t).toMillis())).orElse(null);
  }
}
