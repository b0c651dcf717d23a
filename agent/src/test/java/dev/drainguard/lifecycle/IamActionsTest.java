package dev.drainguard.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;

/**
 * {@link QueryLifecycleActions#IAM_ACTIONS} against the Auto Scaling calls the adapter's source
 * makes. Guards against a new call (say DetachInstances) that the instance role's policy in
 * userdata/ does not allow: the agent would fail with AccessDenied only on a real instance, in the
 * middle of a termination.
 */
class IamActionsTest {

  static final Path SOURCE =
      Path.of("src/main/java/dev/drainguard/lifecycle/QueryLifecycleActions.java");

  /**
   * Each call the adapter sends goes through its one {@code call(operation, "Action", …)}: the
   * Query API action is the string after the first argument.
   */
  static final Pattern CALL = Pattern.compile("\\bcall\\(\\s*[^;]*?,\\s*\"([A-Z][A-Za-z]+)\"");

  /** IAM action names, one per Query API action the source sends. */
  static Set<String> actionsCalledIn(String source) {
    Matcher call = CALL.matcher(source);
    Set<String> actions = new TreeSet<>();
    while (call.find()) {
      actions.add("autoscaling:" + call.group(1));
    }
    return actions;
  }

  static String source() throws IOException {
    return Files.readString(SOURCE);
  }

  @Test
  void theListIsExactlyTheAutoScalingCallsTheAdapterMakes() throws IOException {
    Set<String> called = actionsCalledIn(source());

    assertThat(called).hasSize(6);
    assertThat(QueryLifecycleActions.IAM_ACTIONS)
        .doesNotHaveDuplicates()
        .containsExactlyInAnyOrderElementsOf(called);
  }

  @Test
  void everyListedActionIsAnOperationOfTheAutoScalingClient() {
    Set<String> operations =
        Arrays.stream(AutoScalingClient.class.getMethods())
            .map(Method::getName)
            .map(m -> "autoscaling:" + Character.toUpperCase(m.charAt(0)) + m.substring(1))
            .collect(Collectors.toSet());

    assertThat(operations).containsAll(QueryLifecycleActions.IAM_ACTIONS);
  }

  @Test
  void aNewCallSpreadOverLinesIsFoundAndIsNotInTheList() {
    // the check above fails for such a source: this is the failure it exists for
    String source =
        """
        public void detach(String id) {
          call(
              "detach instance=" + id,
              "DetachInstances",
              Map.of("InstanceIds.member.1", id),
              r -> r,
              null);
          return call("heartbeat for " + ref, "RecordLifecycleActionHeartbeat", Map.of(), r -> r, X);
          call(operation,
              "DescribeAutoScalingInstances", params, r -> r, null);
        }
        """;

    Set<String> called = actionsCalledIn(source);

    assertThat(called)
        .containsExactly(
            "autoscaling:DescribeAutoScalingInstances",
            "autoscaling:DetachInstances",
            "autoscaling:RecordLifecycleActionHeartbeat");
    assertThat(QueryLifecycleActions.IAM_ACTIONS).doesNotContain("autoscaling:DetachInstances");
  }
}
