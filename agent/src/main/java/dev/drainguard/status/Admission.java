package dev.drainguard.status;

import dev.drainguard.operator.Caller;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Who may have a connection served now. Every uid but root's shares {@link #SHARED} slots, at most
 * {@link #PER_UID} each, so no operator (or script gone wrong) can take them all; root has {@link
 * #ROOT} slots of its own that nobody else can take, so root's {@code drainguard status} (and the
 * package scripts, and systemd's readiness check) is answered however the socket is used.
 */
final class Admission {

  /** Connections served at once for every uid but root's. */
  static final int SHARED = 32;

  /** Connections one uid (not root) may have served at once: a status, a hold, a watch, a spare. */
  static final int PER_UID = 4;

  /** Root's own connections, apart from the shared ones. */
  static final int ROOT = 16;

  private final Map<String, Integer> open = new HashMap<>();
  private int shared;
  private int root;

  /**
   * Takes a slot for {@code caller}.
   *
   * @return empty when admitted (give it back with {@link #release}); else why not
   */
  synchronized Optional<String> admit(Caller caller) {
    if (caller.root()) {
      if (root >= ROOT) {
        return Optional.of("busy: root already has " + ROOT + " connections open");
      }
      root++;
      return Optional.empty();
    }
    int mine = open.getOrDefault(caller.key(), 0);
    if (mine >= PER_UID) {
      return Optional.of(
          "busy: "
              + caller.describe()
              + " already has "
              + PER_UID
              + " connections open (the limit per user); close one and ask again");
    }
    if (shared >= SHARED) {
      return Optional.of(
          "busy: "
              + SHARED
              + " connections are open; ask again in a few seconds (root is always"
              + " answered)");
    }
    open.put(caller.key(), mine + 1);
    shared++;
    return Optional.empty();
  }

  /** Gives back the slot {@link #admit} took for {@code caller}. */
  synchronized void release(Caller caller) {
    if (caller.root()) {
      root--;
      return;
    }
    open.computeIfPresent(caller.key(), (k, n) -> n <= 1 ? null : n - 1);
    shared--;
  }

  /** Connections open now, root's included (tests). */
  synchronized int open() {
    return shared + root;
  }
}
