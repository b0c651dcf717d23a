package dev.drainguard.cli;

import dev.drainguard.aws.CredentialsChain;
import dev.drainguard.aws.CredentialsProvider;
import dev.drainguard.imds.HttpInstanceMetadata;
import dev.drainguard.net.Endpoint;
import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.net.RetryPolicy;
import java.net.URI;
import java.time.Clock;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProviderChain;
import software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider;
import software.amazon.awssdk.auth.credentials.InstanceProfileCredentialsProvider;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.auth.credentials.SystemPropertyCredentialsProvider;

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

  /** The SDK's default chain, in its order, for the SDK's Auto Scaling client until it goes. */
  static AwsCredentialsProvider chain(URI imdsEndpoint) {
    return AwsCredentialsProviderChain.builder()
        .reuseLastProviderEnabled(true)
        .credentialsProviders(
            SystemPropertyCredentialsProvider.create(),
            EnvironmentVariableCredentialsProvider.create(),
            ProfileCredentialsProvider.create(),
            InstanceProfileCredentialsProvider.builder().endpoint(imdsEndpoint.toString()).build())
        .build();
  }
}
