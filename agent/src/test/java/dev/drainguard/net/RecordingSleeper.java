package dev.drainguard.net;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A {@link Sleeper} that returns at once and remembers every pause it was asked for. */
public final class RecordingSleeper implements Sleeper {

  private final List<Duration> pauses = new ArrayList<>();

  @Override
  public synchronized void sleep(Duration duration) {
    pauses.add(duration);
  }

  /** The pauses asked for so far, in order. */
  public synchronized List<Duration> pauses() {
    return List.copyOf(pauses);
  }
}
