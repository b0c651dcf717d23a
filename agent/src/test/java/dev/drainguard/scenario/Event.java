package dev.drainguard.scenario;

import java.time.Duration;

/** One step of a scenario's schedule, at {@link #at()} seconds after the start. */
sealed interface Event {

  long at();

  /** A writer (Cribl) queues a file of {@code bytes} under root number {@code root}. */
  record Write(long at, int root, String name, int bytes) implements Event {
    @Override
    public String toString() {
      return String.format("+%ds write q%d/%s %d B", at, root, name, bytes);
    }
  }

  /**
   * The destination accepted one file: it leaves the queue (deferred while the destination is
   * down).
   */
  record Drain(long at, int root, String name) implements Event {
    @Override
    public String toString() {
      return String.format("+%ds drain q%d/%s", at, root, name);
    }
  }

  /** Every queued file is sent (deferred while the destination is down). */
  record DrainAll(long at) implements Event {
    @Override
    public String toString() {
      return String.format("+%ds drain everything", at);
    }
  }

  /** The destination is down: nothing drains until it is back. */
  record DestinationDown(long at, Duration length) implements Event {
    @Override
    public String toString() {
      return String.format("+%ds destination down for %ds", at, length.toSeconds());
    }
  }

  /** Auto Scaling starts terminating the instance. */
  record ScaleIn(long at) implements Event {
    @Override
    public String toString() {
      return String.format("+%ds scale-in", at);
    }
  }

  /**
   * The agent stops (nothing is sent, as on SIGTERM or SIGKILL) and a new one starts after {@code
   * down}; zero is a restart, longer is a kill followed by a late restart.
   */
  record Restart(long at, Duration down) implements Event {
    @Override
    public String toString() {
      return down.isZero()
          ? String.format("+%ds agent restart", at)
          : String.format("+%ds agent killed, back after %ds", at, down.toSeconds());
    }
  }

  /** The next {@code count} IMDS GETs answer {@code status}. */
  record ImdsErrors(long at, int count, int status) implements Event {
    @Override
    public String toString() {
      return String.format("+%ds IMDS answers %d to the next %d GETs", at, status, count);
    }
  }

  /** Every IMDSv2 token issued so far is revoked: the next GETs answer 401. */
  record ImdsTokensRevoked(long at) implements Event {
    @Override
    public String toString() {
      return String.format("+%ds IMDS tokens revoked", at);
    }
  }

  /** IMDS drops every connection for {@code length}. */
  record ImdsDown(long at, Duration length) implements Event {
    @Override
    public String toString() {
      return String.format("+%ds IMDS unreachable for %ds", at, length.toSeconds());
    }
  }

  /** The next {@code count} calls of {@code action} answer an error. */
  record ApiErrors(long at, String action, int count, int status, String code) implements Event {
    @Override
    public String toString() {
      return String.format(
          "+%ds %s answers %d %s to the next %d calls", at, action, status, code, count);
    }
  }
}
