package dev.drainguard.cli;

import java.net.URI;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProviderChain;
import software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider;
import software.amazon.awssdk.auth.credentials.InstanceProfileCredentialsProvider;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.auth.credentials.SystemPropertyCredentialsProvider;

/**
 * The SDK's default chain, in its order, except that instance-profile credentials come from the
 * same IMDS endpoint the agent is configured with: an overridden endpoint (simulator, tests) must
 * never let a credentials lookup reach the real 169.254.169.254.
 */
final class Credentials {

  private Credentials() {}

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
