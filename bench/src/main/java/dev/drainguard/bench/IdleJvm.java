package dev.drainguard.bench;

/**
 * The baseline: a JVM that only sleeps, started with the packaged launcher's options, so that its
 * RSS and CPU time are what the JVM alone costs.
 */
public final class IdleJvm {

  private IdleJvm() {}

  public static void main(String[] args) throws InterruptedException {
    System.out.println("ready");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
