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

  /**
   * AWS refused {@code credentials} as expired or unknown: a provider that fetches its credentials
   * fetches anew at the next {@link #resolve()} instead of waiting for their own expiry (which it
   * judges by a clock that may be off). Fixed credentials have nothing better to give.
   */
  default void refused(AwsCredentials credentials) {}

  /** Always the same credentials (the demo, tests against the simulator or moto). */
  static CredentialsProvider fixed(AwsCredentials credentials) {
    return () -> credentials;
  }
}
