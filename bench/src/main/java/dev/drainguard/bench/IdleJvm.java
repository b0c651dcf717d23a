package dev.drainguard.bench;

/**
 * The baseline: a JVM that only sleeps, started with the packaged launcher's options, so that its
 * RSS and CPU time are what the JVM alone costs. With the argument {@code once} it prints its line
 * and exits: the baseline for a control command such as {@code drainguard status}.
 */
public final class IdleJvm {

  private IdleJvm() {}

  public static void main(String[] args) throws InterruptedException {
    System.out.println("ready");
    System.out.flush();
    if (args.length > 0 && args[0].equals("once")) {
      return;
    }
    Thread.sleep(Long.MAX_VALUE);
  }
}
