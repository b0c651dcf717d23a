package dev.drainguard.net;

import java.net.URI;
import java.util.Objects;

/**
 * An endpoint the agent calls, and where that choice came from, e.g. {@code http://127.0.0.1:5000}
 * from {@code env AWS_ENDPOINT_URL_AUTO_SCALING}. Resolved once from the configuration; {@code
 * check}, status, logs and the loopback guard all name this one.
 *
 * @param source where the URI came from: a flag, an environment variable, a system property, a
 *     profile file line, a default, or the AWS partition rules for a region
 */
public record Endpoint(URI uri, String source) {

  public Endpoint {
    Objects.requireNonNull(uri, "uri");
    Objects.requireNonNull(source, "source");
  }

  /** {@code URI (from SOURCE)}, as the operator reads it. */
  @Override
  public String toString() {
    return uri + " (from " + source + ")";
  }
}
