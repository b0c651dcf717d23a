package dev.drainguard.queue;

/**
 * A probe that is asked on a schedule (a command, an API), beside the filesystem watcher that
 * reports on its own. {@link #read()} may block up to the probe's own timeout and never throws: a
 * probe that cannot tell says {@link ProbeReading#unknown}.
 */
public interface Probe {

  /** The name {@code --drained-when}, status and metrics use. */
  String name();

  /** One reading, taken now. */
  ProbeReading read();

  /** What it asks, for logs and {@code drainguard check}: the command, the URL. */
  String describe();
}
