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
 * {@link SdkLifecycleActions#IAM_ACTIONS} against the Auto Scaling calls the adapter's source
 * makes. Guards against a new call (say DetachInstances) that the instance role's policy in
 * userdata/ does not allow: the agent would fail with AccessDenied only on a real instance, in the
 * middle of a termination.
 */
class IamActionsTest {

  static final Path SOURCE =
      Path.of("src/main/java/dev/drainguard/lifecycle/SdkLifecycleActions.java");

  /** The name of the adapter's one AutoScalingClient field. */
  static final Pattern CLIENT_FIELD = Pattern.compile("\\bAutoScalingClient\\s+(\\w+)\\s*;");

  /** IAM action names, one per operation the source calls on the client field. */
  static Set<String> actionsCalledIn(String source) {
    Matcher field = CLIENT_FIELD.matcher(source);
    assertThat(field.find()).as("an AutoScalingClient field in the source").isTrue();
    String name = field.group(1);
    assertThat(field.find()).as("a second AutoScalingClient field in the source").isFalse();
    // "client\n    .describeLifecycleHooks(" is a call too: whitespace may sit around the dot
    Matcher call =
        Pattern.compile("\\b" + Pattern.quote(name) + "\\s*\\.\\s*([a-z]\\w*)\\s*\\(")
            .matcher(source);
    Set<String> actions = new TreeSet<>();
    while (call.find()) {
      String method = call.group(1);
      if (method.equals("close")) {
        continue; // releases the HTTP client; no request is sent
      }
      // a paginator sends the operation it pages through
      String operation = method.replaceFirst("Paginator$", "");
      actions.add(
          "autoscaling:" + Character.toUpperCase(operation.charAt(0)) + operation.substring(1));
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
    assertThat(SdkLifecycleActions.IAM_ACTIONS)
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

    assertThat(operations).containsAll(SdkLifecycleActions.IAM_ACTIONS);
  }

  @Test
  void aNewCallSpreadOverLinesIsFoundAndIsNotInTheList() {
    // the check above fails for such a source: this is the failure it exists for
    String source =
        """
        private final AutoScalingClient client;
        void detach(String id) {
          client
              .detachInstances(r -> r.instanceIds(id));
          client.recordLifecycleActionHeartbeat(r -> r.instanceId(id));
          client.describeAutoScalingInstancesPaginator(r -> r.instanceIds(id));
          client.close();
        }
        """;

    Set<String> called = actionsCalledIn(source);

    assertThat(called)
        .containsExactly(
            "autoscaling:DescribeAutoScalingInstances",
            "autoscaling:DetachInstances",
            "autoscaling:RecordLifecycleActionHeartbeat");
    assertThat(SdkLifecycleActions.IAM_ACTIONS).doesNotContain("autoscaling:DetachInstances");
  }
}
