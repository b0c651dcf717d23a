package dev.drainguard.sim;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

/** The IMDSv2 session tokens the simulator issued, each with its expiry on the simulator clock. */
final class ImdsTokens {

  private static final int TOKEN_BYTES = 42;

  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, Instant> expiries = new HashMap<>();

  ImdsTokens(Clock clock) {
    this.clock = clock;
  }

  synchronized String issue(Duration ttl) {
    byte[] bytes = new byte[TOKEN_BYTES];
    random.nextBytes(bytes);
    String token = Base64.getEncoder().encodeToString(bytes);
    expiries.put(token, clock.instant().plus(ttl));
    return token;
  }

  /** True for a token that was issued, has not expired and was not revoked. */
  synchronized boolean valid(String token) {
    if (token == null) {
      return false;
    }
    Instant expiry = expiries.get(token);
    if (expiry == null) {
      return false;
    }
    if (!clock.instant().isBefore(expiry)) {
      expiries.remove(token);
      return false;
    }
    return true;
  }

  /** Forgets every token issued so far; tokens issued later work. */
  synchronized void revokeAll() {
    expiries.clear();
  }
}
