package dev.drainguard.cli;

import dev.drainguard.drain.DrainLoop;
import dev.drainguard.drain.Event;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Where the sources send their events: kept in order until the decision loop exists, then handed to
 * it, so that no reading taken while the agent starts is lost.
 */
final class EarlyEvents implements Consumer<Event> {

  private final List<Event> early = new ArrayList<>();
  private volatile DrainLoop loop;

  @Override
  public void accept(Event e) {
    DrainLoop l = loop;
    if (l == null) {
      synchronized (early) {
        l = loop;
        if (l == null) {
          early.add(e);
          return;
        }
      }
    }
    l.offer(e);
  }

  /** From now on every event goes to {@code l}, those kept so far first. */
  void deliverTo(DrainLoop l) {
    synchronized (early) {
      early.forEach(l::offer);
      early.clear();
      loop = l;
    }
  }
}
