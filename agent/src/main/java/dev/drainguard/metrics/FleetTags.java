package dev.drainguard.metrics;

import io.micrometer.core.instrument.Tags;
import java.util.Objects;

/**
 * The tags (CloudWatch dimensions) every fleet metric carries, so a fleet's metrics can be filtered
 * and rolled up by group, told apart by instance and hook.
 */
public record FleetTags(String group, String instance, String hook) {

  public FleetTags {
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(instance, "instance");
    Objects.requireNonNull(hook, "hook");
  }

  Tags asTags() {
    return Tags.of("group", group, "instance", instance, "hook", hook);
  }
}
