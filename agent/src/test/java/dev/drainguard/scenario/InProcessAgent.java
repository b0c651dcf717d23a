package dev.drainguard.scenario;

import dev.drainguard.aws.AwsCredentials;
import dev.drainguard.aws.CredentialsProvider;
import dev.drainguard.config.AgentConfig;
import dev.drainguard.drain.DrainStatus;
import dev.drainguard.net.Sleeper;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.time.Clock;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * The real agent, {@code dev.drainguard.cli.Agent}, started in this JVM exactly as {@code
 * drainguard run} starts it (same assembly, same adapters, same watcher), but on a test clock and
 * with a fast tick. The composition root is package-private in {@code cli}; this handle reaches it
 * by reflection so that the scenario runner lives in its own package and still drives nothing but
 * the production assembly.
 */
final class InProcessAgent implements AutoCloseable {

  private static final Method START;
  private static final Method STATUS;
  private static final Method CLOSE;
  private static final Method SETTLED;
  private static final Method PLANNED_WAKE;

  static {
    try {
      Class<?> agent = Class.forName("dev.drainguard.cli.Agent");
      START =
          agent.getDeclaredMethod(
              "start",
              AgentConfig.class,
              dev.drainguard.aws.CredentialsProvider.class,
              Clock.class,
              Sleeper.class,
              Consumer.class,
              java.util.Optional.class,
              Runnable.class);
      STATUS = agent.getDeclaredMethod("status");
      SETTLED = agent.getDeclaredMethod("settled");
      SETTLED.setAccessible(true);
      PLANNED_WAKE = agent.getDeclaredMethod("plannedWake");
      PLANNED_WAKE.setAccessible(true);
      CLOSE = agent.getDeclaredMethod("close");
      START.setAccessible(true);
      STATUS.setAccessible(true);
      CLOSE.setAccessible(true);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final Object agent;

  private InProcessAgent(Object agent) {
    this.agent = agent;
  }

  /**
   * {@code Agent.start(cfg, credentials, clock, Sleeper.NONE, listener, tick)}: retries inside the
   * adapters do not wait, since the clock only moves when the test moves it.
   */
  static InProcessAgent start(
      AgentConfig cfg, Clock clock, Consumer<DrainStatus> listener, Duration tick) {
    return new InProcessAgent(
        invoke(
            START,
            null,
            cfg,
            CredentialsProvider.fixed(AwsCredentials.of("test", "test", "fixed test keys")),
            clock,
            Sleeper.NONE,
            listener,
            java.util.Optional.of(tick),
            (Runnable)
                () -> {
                  throw new AssertionError("the agent's decision thread died");
                }));
  }

  /** No event waiting, no step running, no call or confirmation in flight. */
  boolean settled() {
    return (Boolean) invoke(SETTLED, agent);
  }

  /** When the agent's decision thread next wakes on its own (a retry, a heartbeat, a deadline). */
  @SuppressWarnings("unchecked")
  java.util.Optional<java.time.Instant> plannedWake() {
    return (java.util.Optional<java.time.Instant>) invoke(PLANNED_WAKE, agent);
  }

  DrainStatus status() {
    return (DrainStatus) invoke(STATUS, agent);
  }

  /** Stops the agent: like SIGTERM or SIGKILL, nothing is sent to Auto Scaling. */
  @Override
  public void close() {
    invoke(CLOSE, agent);
  }

  private static Object invoke(Method m, Object target, Object... args) {
    try {
      return m.invoke(target, args);
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException(e.getCause());
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }
}
