package dev.drainguard.cli;

/** The exit codes every command uses; scripts and systemd rely on them. */
public final class ExitCodes {
  public static final int OK = 0;

  /** A runtime failure: IMDS unreachable, an unexpected error. */
  public static final int FAILURE = 1;

  /** Bad command-line usage (unknown option, missing value): picocli's own code. */
  public static final int USAGE = 2;

  /** Bad configuration (sysexits EX_CONFIG): a value out of range, a hook that cannot be found. */
  public static final int CONFIG = 78;

  private ExitCodes() {}
}
