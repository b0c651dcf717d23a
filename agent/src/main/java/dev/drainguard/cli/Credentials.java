package dev.drainguard.cli;

import dev.drainguard.aws.CredentialsChain;
import dev.drainguard.aws.CredentialsProvider;
import dev.drainguard.imds.HttpInstanceMetadata;
import dev.drainguard.net.Endpoint;
import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.net.RetryPolicy;
import java.time.Clock;

/**
 * Where the Auto Scaling calls get their credentials: system properties, environment, the shared
 * profile files, then the instance profile, except that instance-profile credentials come only from
 * the IMDS endpoint the agent is configured with: an overridden endpoint (simulator, tests) must
 * never let a credentials lookup reach the real 169.254.169.254.
 */
final class Credentials {

  private Credentials() {}

  /**
   * The agent's own chain ({@link CredentialsChain}), reading the process's environment and system
   * properties; instance-profile credentials only from {@code imds}, judged by {@code guard}
   * (loopback-only mode applies) before anything is built.
   */
  static CredentialsProvider provider(Endpoint imds, LoopbackGuard guard) {
    return new CredentialsChain(
        System.getenv(),
        System::getProperty,
        new HttpInstanceMetadata(imds, guard, RetryPolicy.DEFAULT, ThreadSleeper.INSTANCE),
        Clock.systemUTC());
  }
}
