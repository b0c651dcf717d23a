package dev.drainguard.check;

import dev.drainguard.imds.InstanceMetadata;
import dev.drainguard.imds.InstanceMetadata.TokenProbe;
import dev.drainguard.imds.TargetLifecycleState;
import dev.drainguard.lifecycle.LifecycleActions;
import dev.drainguard.queue.Probe;
import dev.drainguard.queue.QueueRootSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The checks of {@code drainguard check}, in order: configuration, IMDS, group membership, the Auto
 * Scaling API and its permissions, the termination hook, an optional heartbeat probe, the queue
 * roots, the inotify budget, Cribl's local buffers, the scheduled probes, and the quiet period
 * against the probe interval (a line only when it is too short). A check whose prerequisite failed
 * is SKIPped with the reason (no IMDS: no group, no hook). A failure is a FAIL line, never an
 * exception.
 *
 * <p>Nothing here changes anything in AWS: only describe calls are made, plus one heartbeat when
 * asked for, which AWS refuses with "No active Lifecycle Action" while the instance is in service.
 */
public final class Checks {

  static final String CONFIG = "config";
  static final String IMDS = "imds";
  static final String GROUP = "group";
  static final String API = "api";
  static final String HOOK = "hook";
  static final String HEARTBEAT = "heartbeat";
  static final String QUEUE_ROOT = "queue-root";
  static final String INOTIFY = "inotify";
  static final String PROBE = "probe";
  static final String DRAINED_WHEN = "drained-when";
  static final String QUIET = "quiet";
  static final String CRIBL = "cribl";

  /** Where Linux publishes {@code fs.inotify.max_user_watches}. */
  public static final Path MAX_USER_WATCHES = QueueChecks.MAX_USER_WATCHES;

  static final String IMDS_FIX =
      "not on EC2, or IMDS switched off? Enable it (aws ec2 modify-instance-metadata-options"
          + " --http-endpoint enabled) or point --imds-endpoint (DRAINGUARD_IMDS_ENDPOINT, or"
          + " AWS_EC2_METADATA_SERVICE_ENDPOINT) at a reachable metadata service";

  static final String HOP_LIMIT_FIX =
      "raise HttpPutResponseHopLimit to 2 if running in a container: aws ec2"
          + " modify-instance-metadata-options --instance-id <id> --http-put-response-hop-limit 2";

  private final CheckSettings settings;
  private final Supplier<? extends InstanceMetadata> imdsFactory;
  private final Function<String, ? extends LifecycleActions> lifecycleFactory;

  /**
   * @param imds builds the IMDS adapter; may throw (e.g. the loopback guard), which is a FAIL
   * @param lifecycle builds the Auto Scaling adapter for a region (known only once IMDS answered)
   */
  public Checks(
      CheckSettings settings,
      Supplier<? extends InstanceMetadata> imds,
      Function<String, ? extends LifecycleActions> lifecycle) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.imdsFactory = Objects.requireNonNull(imds, "imds");
    this.lifecycleFactory = Objects.requireNonNull(lifecycle, "lifecycle");
  }

  /** Every check, in order. */
  public List<Check> run() {
    List<Check> out = new ArrayList<>();
    out.add(Check.pass(CONFIG, settings.configSource()));
    Optional<Instance> instance = imds(out);
    if (instance.isEmpty()) {
      skipAll(out, "IMDS did not answer", GROUP, API, HOOK, HEARTBEAT);
    } else {
      Optional<TargetLifecycleState> state = group(instance.get(), out);
      if (state.isEmpty()) {
        skipAll(out, "the instance is not in an Auto Scaling group", API, HOOK, HEARTBEAT);
      } else {
        new LifecycleChecks(settings, instance.get(), state.get(), lifecycleFactory).run(out);
      }
    }
    new QueueChecks(settings.queueRoots(), settings.maxUserWatches(), settings.user()).run(out);
    new CriblChecks(
            settings.criblHome(),
            settings.queueRootAuto(),
            settings.queueRoots().stream().map(QueueRootSpec::root).toList())
        .run(out);
    new ProbeChecks(settings.probes(), settings.drainedWhen()).run(out);
    quiet(out);
    return List.copyOf(out);
  }

  /**
   * A WARN when a deciding scheduled probe is asked less often than the quiet period lasts: the
   * quiet period is then over before the probe is asked again, so one empty reading is believed.
   * The files probe is not scheduled (it hears every change), so it never needs this.
   */
  private void quiet(List<Check> out) {
    Duration quiet = settings.quietPeriod();
    Duration interval = settings.probeInterval();
    List<String> asked =
        settings.probes().stream()
            .map(Probe::name)
            .filter(settings.drainedWhen()::decides)
            .toList();
    if (asked.isEmpty() || quiet.compareTo(interval) >= 0) {
      return;
    }
    out.add(
        Check.warn(
            QUIET,
            "quiet-period "
                + format(quiet)
                + " is shorter than probe-interval "
                + format(interval)
                + ": the "
                + String.join(" and ", asked)
                + (asked.size() == 1 ? " probe is" : " probes are")
                + " asked again only after the quiet period is over, so a single empty reading is"
                + " believed, and a queue that is empty for a moment between two batches reads as"
                + " drained",
            "set quiet-period to at least probe-interval: quiet-period = "
                + format(interval)
                + " or more, or a shorter probe-interval"));
  }

  /** The lines when the configuration does not load: its FAIL, then everything else skipped. */
  public static List<Check> configFailed(String message) {
    List<Check> out = new ArrayList<>();
    out.add(
        Check.fail(
            CONFIG,
            message,
            "correct the setting named above (drainguard run --help lists every setting)"));
    skipAll(
        out,
        "the configuration did not load",
        IMDS,
        GROUP,
        API,
        HOOK,
        HEARTBEAT,
        QUEUE_ROOT,
        INOTIFY,
        PROBE,
        DRAINED_WHEN);
    return List.copyOf(out);
  }

  /** What IMDS said about this instance, and the port to ask it more. */
  record Instance(InstanceMetadata imds, String id, String region) {}

  private Optional<Instance> imds(List<Check> out) {
    String at = "IMDSv2 at " + settings.imdsEndpoint();
    InstanceMetadata imds;
    TokenProbe probe;
    try {
      imds = imdsFactory.get();
      probe = imds.probeToken();
    } catch (RuntimeException e) {
      out.add(Check.fail(IMDS, at + ": " + e.getMessage(), IMDS_FIX));
      return Optional.empty();
    }
    switch (probe.outcome()) {
      case NO_ANSWER -> {
        out.add(
            Check.fail(
                IMDS, at + ": the token PUT timed out (" + probe.detail() + ")", HOP_LIMIT_FIX));
        return Optional.empty();
      }
      case REJECTED, FAILED -> {
        out.add(Check.fail(IMDS, at + ": " + probe.detail(), IMDS_FIX));
        return Optional.empty();
      }
      case ISSUED -> {
        // go on: read the instance with a token
      }
    }
    try {
      String id = imds.instanceId();
      String region = settings.region().orElseGet(imds::region);
      String regionFrom = settings.region().isPresent() ? " (from --region)" : "";
      out.add(
          Check.pass(IMDS, at + " answered: instance " + id + ", region " + region + regionFrom));
      return Optional.of(new Instance(imds, id, region));
    } catch (RuntimeException e) {
      out.add(Check.fail(IMDS, at + " issued a token, then: " + e.getMessage(), IMDS_FIX));
      return Optional.empty();
    }
  }

  /** The target lifecycle state, or empty (a FAIL) when the instance is in no group. */
  private Optional<TargetLifecycleState> group(Instance i, List<Check> out) {
    TargetLifecycleState state;
    try {
      state = i.imds().targetLifecycleState();
    } catch (RuntimeException e) {
      out.add(Check.fail(GROUP, e.getMessage(), IMDS_FIX));
      return Optional.empty();
    }
    if (state == TargetLifecycleState.NOT_IN_GROUP) {
      out.add(
          Check.fail(
              GROUP,
              "instance "
                  + i.id()
                  + " is in no Auto Scaling group (IMDS autoscaling/target-lifecycle-state"
                  + " answered 404)",
              "launch the instance from the worker group (or aws autoscaling attach-instances);"
                  + " drainguard only protects group members"));
      return Optional.empty();
    }
    String detail = "target-lifecycle-state " + awsName(state) + "; " + groupName(i);
    out.add(
        switch (state) {
          case IN_SERVICE -> Check.pass(GROUP, detail);
          case TERMINATED ->
              Check.warn(
                  GROUP,
                  detail + ": this instance is being terminated now",
                  "run the check on an instance in service");
          default ->
              Check.warn(
                  GROUP,
                  detail + ": not InService",
                  "drainguard holds the termination of an instance in service; check again once"
                      + " it is InService");
        });
    return Optional.of(state);
  }

  private String groupName(Instance i) {
    if (settings.groupName().isPresent()) {
      return "asg=" + settings.groupName().get() + " from --asg-name";
    }
    if (settings.groupFromTags()) {
      try {
        Optional<String> tagged = i.imds().autoScalingGroupFromTags();
        if (tagged.isPresent()) {
          return "asg=" + tagged.get() + " from instance tag aws:autoscaling:groupName";
        }
      } catch (RuntimeException e) {
        return "instance tags unreadable (" + e.getMessage() + "): asg name from the API";
      }
      return "asg name not in instance metadata tags: asked of DescribeAutoScalingInstances";
    }
    return "asg name from DescribeAutoScalingInstances (--asg-from-tags false)";
  }

  private static String awsName(TargetLifecycleState state) {
    return switch (state) {
      case IN_SERVICE -> "InService";
      case TERMINATED -> "Terminated";
      case STANDBY -> "Standby";
      case DETACHED -> "Detached";
      case WARMED -> "Warmed:*";
      case NOT_IN_GROUP -> "(404)";
      case UNKNOWN -> "(an unknown value)";
    };
  }

  static void skipAll(List<Check> out, String why, String... names) {
    for (String name : names) {
      out.add(Check.skip(name, why));
    }
  }

  /** A duration as the config file spells it: 90s, 50m, 1h30m, 48h, 250ms. */
  static String format(Duration d) {
    long s = d.toSeconds();
    if (d.toMillis() % 1000 != 0) {
      return d.toMillis() + "ms";
    }
    if (s == 0) {
      return "0s";
    }
    StringBuilder b = new StringBuilder();
    if (s >= 3600) {
      b.append(s / 3600).append('h');
    }
    if (s % 3600 >= 60) {
      b.append(s % 3600 / 60).append('m');
    }
    if (s % 60 > 0) {
      b.append(s % 60).append('s');
    }
    return b.toString();
  }
}
