package dev.drainguard.drain;

/** What the agent does when the deadline comes and the queues still hold data. */
public enum DeadlinePolicy {
  /** Send CONTINUE: the instance terminates and the queued data is lost (logged with the bytes). */
  COMPLETE,
  /** Send nothing and stop heartbeating: the hook's DefaultResult applies when it times out. */
  EXPIRE,
  /**
   * Send ABANDON so that a group with {@code TerminateHookAbandon=retain} keeps the instance in
   * {@code Terminating:Retained}; keep draining there, then terminate it once the queues drain.
   */
  RETAIN
}
