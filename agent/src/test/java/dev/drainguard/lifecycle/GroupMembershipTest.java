package dev.drainguard.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.lifecycle.GroupMembership.Stage;
import dev.drainguard.lifecycle.LifecycleApiException.Kind;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class GroupMembershipTest {

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    "InService, NOT_TERMINATING",
    "Pending, NOT_TERMINATING",
    "Standby, NOT_TERMINATING",
    "Terminating, DEREGISTERING",
    "Terminating:Wait, WAITING",
    "Terminating:Retained, RETAINED",
    "Terminating:Proceed, PROCEEDING",
    "Terminated, TERMINATED"
  })
  void stage_byLifecycleState(String state, Stage stage) {
    assertThat(new GroupMembership("g", state).stage()).isEqualTo(stage);
  }

  @ParameterizedTest(name = "code {0} -> {1}")
  @CsvSource({
    "Throttling, THROTTLED",
    "RequestLimitExceeded, THROTTLED",
    ", UNAVAILABLE",
    "AccessDenied, REJECTED",
    "ValidationError, REJECTED"
  })
  void lifecycleApiException_kindFromErrorCode(String code, Kind kind) {
    LifecycleApiException e = new LifecycleApiException("describe", code, null);

    assertThat(e.kind()).isEqualTo(kind);
    assertThat(e.transientFailure()).isEqualTo(kind != Kind.REJECTED);
  }
}
