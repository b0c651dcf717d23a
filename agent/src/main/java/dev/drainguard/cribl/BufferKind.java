package dev.drainguard.cribl;

/** The kinds of local buffer Cribl keeps on a worker's disk. */
public enum BufferKind {
  /** A destination's persistent queue: {@code <pqPath>/<worker-process>/<output-id>/}. */
  DESTINATION_PQ("destination PQ"),
  /** A source's persistent queue: {@code <pq.path>/<worker-process>/inputs/<input-id>/}. */
  SOURCE_PQ("source PQ"),
  /**
   * A non-streaming destination's staging location, {@code <stagePath>/<output-id>/}: files are
   * written there and uploaded or moved only once they close.
   */
  STAGING("staging"),
  /** Files a non-streaming destination gave up on: never retried, so never drained by waiting. */
  DEAD_LETTER("dead letter");

  private final String label;

  BufferKind(String label) {
    this.label = label;
  }

  /** How check and the log name it. */
  public String label() {
    return label;
  }
}
