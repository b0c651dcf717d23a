package dev.drainguard.aws;

/**
 * Where the Auto Scaling calls get their credentials, asked before every call: an implementation
 * that fetches them (the instance profile) keeps them until shortly before they expire.
 */
@FunctionalInterface
public interface CredentialsProvider {

  /**
   * The credentials to sign the next call with.
   *
   * @throws CredentialsException when none can be found; its message says where the agent looked
   *     and how to give it some
   */
  AwsCredentials resolve();

  /** Always the same credentials (the demo, tests against the simulator or moto). */
  static CredentialsProvider fixed(AwsCredentials credentials) {
    return () -> credentials;
  }
}
