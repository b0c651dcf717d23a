package dev.drainguard.queue;

/**
 * Reports what is queued. The filesystem watcher is the first implementation; probes that ask the
 * writer itself plug in beside it. A probe that cannot tell reports an error for that root, which
 * is never treated as empty.
 */
public interface QueueProbe extends AutoCloseable {

  /** The latest judgement of every queue root. Cheap: callers may ask often. */
  QueueSnapshot snapshot();

  @Override
  void close();
}
