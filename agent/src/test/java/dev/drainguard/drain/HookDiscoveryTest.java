package dev.drainguard.drain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drainguard.lifecycle.GroupMembership;
import dev.drainguard.lifecycle.LifecycleResult;
import dev.drainguard.lifecycle.TerminationHook;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class HookDiscoveryTest {

  final FakePorts.Imds imds = new FakePorts.Imds();
  final FakePorts.Api api = new FakePorts.Api();

  static TerminationHook hook(String name) {
    return new TerminationHook(
        name, Duration.ofHours(1), Duration.ofHours(48), LifecycleResult.CONTINUE);
  }

  HookDiscovery.Found discover(Optional<String> group, boolean fromTags, Optional<String> hook) {
    return HookDiscovery.discover("i-1", group, fromTags, hook, imds, api);
  }

  @Test
  void configuredGroup_winsOverTagsAndApi() {
    imds.tagGroup = Optional.of("from-tag");
    api.hooks = List.of(hook("h"));
    HookDiscovery.Found f = discover(Optional.of("configured"), true, Optional.empty());
    assertThat(f.ref().groupName()).isEqualTo("configured");
    assertThat(api.calls).containsExactly("hooks:configured");
  }

  @Test
  void groupFromTags_whenEnabled_withoutAnApiCall() {
    imds.tagGroup = Optional.of("from-tag");
    api.hooks = List.of(hook("h"));
    HookDiscovery.Found f = discover(Optional.empty(), true, Optional.empty());
    assertThat(f.ref().groupName()).isEqualTo("from-tag");
    assertThat(api.calls).containsExactly("hooks:from-tag");
  }

  @Test
  void groupFromDescribeAutoScalingInstances_whenTagsAreOffOrMissing() {
    imds.tagGroup = Optional.of("ignored");
    api.membership = Optional.of(new GroupMembership("from-api", "InService"));
    api.hooks = List.of(hook("h"));
    HookDiscovery.Found f = discover(Optional.empty(), false, Optional.empty());
    assertThat(f.ref().groupName()).isEqualTo("from-api");
    assertThat(f.groupSource()).isEqualTo("DescribeAutoScalingInstances");
  }

  @Test
  void instanceInNoGroup_isAClearError() {
    assertThatThrownBy(() -> discover(Optional.empty(), true, Optional.empty()))
        .isInstanceOf(HookDiscovery.DiscoveryException.class)
        .hasMessageContaining("i-1 is in no Auto Scaling group")
        .hasMessageContaining("--asg-name");
  }

  @Test
  void theOnlyTerminationHook_isChosen() {
    api.hooks = List.of(hook("only"));
    assertThat(discover(Optional.of("g"), true, Optional.empty()).hook().name()).isEqualTo("only");
  }

  @Test
  void severalHooksAndNoneConfigured_isAClearErrorListingThem() {
    api.hooks = List.of(hook("a"), hook("b"));
    assertThatThrownBy(() -> discover(Optional.of("g"), true, Optional.empty()))
        .isInstanceOf(HookDiscovery.DiscoveryException.class)
        .hasMessageContaining("2 termination hooks (a, b)")
        .hasMessageContaining("--hook-name");
  }

  @Test
  void severalHooksAndOneConfigured_picksIt() {
    api.hooks = List.of(hook("a"), hook("b"));
    assertThat(discover(Optional.of("g"), true, Optional.of("b")).hook().name()).isEqualTo("b");
  }

  @Test
  void noTerminationHook_isAState_notAnExit() {
    // guards against exit 78 for a hook made by a separate resource after the first workers
    HookDiscovery.Found f = discover(Optional.of("g"), true, Optional.empty());
    assertThat(f.missing()).isTrue();
    assertThat(f.ref().groupName()).isEqualTo("g");
    assertThat(f.ref().hookName()).isEmpty();
  }

  @Test
  void aConfiguredHookThatDoesNotExistYet_isMissing_underItsName() {
    api.hooks = List.of(hook("a"));
    HookDiscovery.Found f = discover(Optional.of("g"), true, Optional.of("later"));
    assertThat(f.missing()).isTrue();
    assertThat(f.ref().hookName()).isEqualTo("later");
  }
}
