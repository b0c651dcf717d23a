package dev.drainguard.cli;

import dev.drainguard.aws.AwsCredentials;
import dev.drainguard.aws.CredentialsException;
import dev.drainguard.aws.CredentialsProvider;
import java.net.URI;

/** TEMPORARY until the credentials chain lands: environment keys only. */
final class Credentials {

  private Credentials() {}

  static CredentialsProvider chain(URI imdsEndpoint) {
    return () -> {
      String id = System.getenv("AWS_ACCESS_KEY_ID");
      String secret = System.getenv("AWS_SECRET_ACCESS_KEY");
      if (id == null || secret == null) {
        throw new CredentialsException("no AWS_ACCESS_KEY_ID", null);
      }
      return AwsCredentials.of(id, secret, "env");
    };
  }
}
