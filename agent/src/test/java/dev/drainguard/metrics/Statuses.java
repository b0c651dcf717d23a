package dev.drainguard.metrics;

import dev.drainguard.drain.DeadlinePolicy;
import dev.drainguard.drain.DrainStatus;
import dev.drainguard.drain.Phase;
import dev.drainguard.imds.TargetLifecycleState;
import dev.drainguard.lifecycle.LifecycleHookRef;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.lifecycle.TerminationHook;
import dev.drainguard.queue.QueueSnapshot;
import dev.drainguard.queue.RootStatus;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Builds {@link DrainStatus} values by component name, every component not named taking a neutral
 * default (empty, 0, false). By name rather than by the canonical constructor so that a component
 * added to the record later does not break these tests.
 */
final class Statuses {

  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  static final LifecycleHookRef REF = new LifecycleHookRef("workers", "drain", "i-1");
  static final TerminationHook HOOK =
      new TerminationHook(
          "drain", Duration.ofMinutes(10), Duration.ofHours(48), LifecycleResult.ABANDON);

  private final Map<String, Object> values = new HashMap<>();

  private Statuses(Phase phase) {
    values.put("evaluatedAt", T0);
    values.put("phase", phase);
    values.put("targetState", TargetLifecycleState.IN_SERVICE);
    values.put("ref", REF);
    values.put("hook", HOOK);
    values.put("policy", DeadlinePolicy.EXPIRE);
    values.put("queues", new QueueSnapshot(T0, List.of(), true));
  }

  static Statuses of(Phase phase) {
    return new Statuses(phase);
  }

  Statuses with(String component, Object value) {
    values.put(component, value);
    return this;
  }

  Statuses heartbeats(int n) {
    return with("heartbeats", n);
  }

  Statuses queues(Instant at, RootStatus... roots) {
    boolean empty = List.of(roots).stream().allMatch(r -> r.empty(0));
    return with("queues", new QueueSnapshot(at, List.of(roots), empty));
  }

  Statuses activeSince(Instant at) {
    return with("actionActiveSince", Optional.of(at));
  }

  Statuses ended(Instant at, LifecycleResult result, String reason, long bytes) {
    return with("endedAt", Optional.of(at))
        .with("result", Optional.ofNullable(result))
        .with("endReason", Optional.of(reason))
        .with("bytesAtEnd", bytes);
  }

  static RootStatus root(String path, long files, long bytes, Duration oldest) {
    return new RootStatus(
        Path.of(path), files, bytes, Optional.ofNullable(oldest), Optional.empty());
  }

  static RootStatus polledRoot(String path, long files, long bytes, String why) {
    return new RootStatus(
        Path.of(path), files, bytes, Optional.empty(), Optional.empty(), Optional.of(why));
  }

  static RootStatus failedRoot(String path, String error) {
    return new RootStatus(Path.of(path), 0, 0, Optional.empty(), Optional.of(error));
  }

  DrainStatus build() {
    RecordComponent[] components = DrainStatus.class.getRecordComponents();
    Class<?>[] types = new Class<?>[components.length];
    Object[] args = new Object[components.length];
    for (int i = 0; i < components.length; i++) {
      types[i] = components[i].getType();
      args[i] = values.getOrDefault(components[i].getName(), neutral(types[i]));
    }
    try {
      Constructor<DrainStatus> c = DrainStatus.class.getDeclaredConstructor(types);
      return c.newInstance(args);
    } catch (NoSuchMethodException | InstantiationException | IllegalAccessException e) {
      throw new AssertionError(e);
    } catch (InvocationTargetException e) {
      throw new AssertionError(e.getCause());
    }
  }

  private static Object neutral(Class<?> type) {
    if (type == Optional.class) {
      return Optional.empty();
    }
    if (type == int.class) {
      return 0;
    }
    if (type == long.class) {
      return 0L;
    }
    if (type == boolean.class) {
      return false;
    }
    return null;
  }
}
