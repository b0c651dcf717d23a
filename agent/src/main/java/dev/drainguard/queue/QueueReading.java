package dev.drainguard.queue;

/** One named queue as a probe reported it: a root's path, a rsyslog queue, a Cribl output. */
public record QueueReading(String name, long bytes) {
  public QueueReading {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a queue needs a name");
    }
    if (bytes < 0) {
      throw new IllegalArgumentException("queue " + name + " has negative bytes: " + bytes);
    }
  }
}
