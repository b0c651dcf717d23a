package dev.drainguard.check;

import java.util.Objects;
import java.util.Optional;

/**
 * The result of one check of {@code drainguard check}: one line for the operator.
 *
 * @param name short and stable, e.g. {@code imds}; scripts may match on it
 * @param detail one line saying what was found, with the ids involved
 * @param fix what to do about a FAIL or WARN; empty for PASS and SKIP
 */
public record Check(Status status, String name, String detail, Optional<String> fix) {

  /** How one check ended. */
  public enum Status {
    PASS,
    /** Works, but something is likely to bite; does not change the exit code. */
    WARN,
    FAIL,
    /** Not run, because something it needs failed or it was not asked for; detail says which. */
    SKIP
  }

  public Check {
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(detail, "detail");
    Objects.requireNonNull(fix, "fix");
  }

  static Check pass(String name, String detail) {
    return new Check(Status.PASS, name, detail, Optional.empty());
  }

  static Check warn(String name, String detail, String fix) {
    return new Check(Status.WARN, name, detail, Optional.ofNullable(fix));
  }

  static Check fail(String name, String detail, String fix) {
    return new Check(Status.FAIL, name, detail, Optional.ofNullable(fix));
  }

  static Check skip(String name, String why) {
    return new Check(Status.SKIP, name, "skipped: " + why, Optional.empty());
  }
}
