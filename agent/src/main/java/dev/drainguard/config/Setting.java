package dev.drainguard.config;

import java.util.Locale;

/**
 * Every setting of {@code drainguard run}: its flag {@code --KEY}, its environment variable {@code
 * DRAINGUARD_KEY} and its key in the config file are all derived from {@link #key()}, so they
 * cannot drift apart. Flags win over the environment, which wins over the file, which wins over the
 * default.
 */
public enum Setting {
  QUEUE_ROOT(
      "queue-root",
      "DIR[:RULES]|auto",
      null,
      true,
      "Queue root directory to watch (repeat, or separate with commas), optionally with rules of"
          + " its own: /dir:ignore=GLOB[,GLOB...]:residual=BYTES; or 'auto': every queue and"
          + " staging directory Cribl's configuration on this worker names (combinable with"
          + " directories, which win). Default: auto when $CRIBL_HOME (else /opt/cribl) exists,"
          + " else $CRIBL_HOME/state/queues."),
  IGNORE_GLOB(
      "ignore-glob",
      "GLOB",
      null,
      true,
      "Files matching this glob, relative to their queue root, never count as queued, under every"
          + " root (repeat, or separate with commas), e.g. **/*.lock."),
  RESIDUAL_BYTES(
      "residual-bytes",
      "BYTES",
      "0",
      false,
      "A root counts as empty while its counted files total at most this much, unless the root"
          + " sets its own residual (0 to 1g; k, m, g suffixes are binary)."),
  QUEUE_PROBE_COMMAND(
      "queue-probe-command",
      "COMMAND",
      null,
      false,
      "Shell command run every probe-interval that prints the bytes queued: one integer, or"
          + " {\"queues\":[{\"name\":...,\"bytes\":N}]}; a failure, a timeout or other output"
          + " is unknown, never empty."),
  CRIBL_API_URL(
      "cribl-api-url",
      "URL",
      null,
      false,
      "Base URL of this worker's Cribl API, e.g. http://127.0.0.1:9000: the probe reads"
          + " pq.queue_size per worker process from /api/v1/system/metrics."),
  CRIBL_TOKEN_FILE(
      "cribl-token-file",
      "PATH",
      null,
      false,
      "File holding the bearer token for cribl-api-url, read at every probe so a rotated token is"
          + " picked up."),
  CRIBL_WORKER_PROCESSES(
      "cribl-worker-processes",
      "N|auto",
      "auto",
      false,
      "Worker processes this Cribl node runs; the probe asks each (wp=0 to N-1), and one more to"
          + " catch a count that is too low. 'auto' reads Cribl's workers.count and minimum from"
          + " /api/v1/system/settings/conf (Cribl's defaults, CPUs - 2 and at least 2, if it cannot)"
          + " at every reading (auto, or 1 to 256)."),
  PROBE_INTERVAL(
      "probe-interval",
      "DURATION",
      "5s",
      false,
      "How often the command and Cribl API probes are asked (1s to 1h)."),
  PROBE_TIMEOUT(
      "probe-timeout",
      "DURATION",
      "10s",
      false,
      "A probe that has not answered after this long is unknown (1s to 10m)."),
  DRAINED_WHEN(
      "drained-when",
      "PROBES",
      "all",
      false,
      "Which probes must say empty: 'all' enabled probes, 'any' one of them, or a list of names"
          + " (files, command, cribl) whose verdict alone counts; the others are shown only."),
  QUIET_PERIOD(
      "quiet-period",
      "DURATION",
      "10s",
      false,
      "How long every queue must stay empty before the agent believes it (0s to 1h)."),
  RECONCILE_INTERVAL(
      "reconcile-interval",
      "DURATION",
      "60s",
      false,
      "Full rescan of the queue roots, so a missed filesystem event can only delay a decision"
          + " (1s to 1h)."),
  HEARTBEAT_INTERVAL(
      "heartbeat-interval",
      "DURATION",
      "2h",
      false,
      "Heartbeat period while holding; the agent uses min(this, HeartbeatTimeout/3), so by default"
          + " HeartbeatTimeout/3: three chances before the hook could time out, and no more calls"
          + " (1s to 2h)."),
  ACTION_GRACE(
      "action-grace",
      "DURATION",
      "15m",
      false,
      "After termination is noticed, how long 'No active Lifecycle Action' means 'not active yet'"
          + " (load balancer deregistration) rather than 'gone' (0s to 2h)."),
  DEADLINE_POLICY(
      "deadline-policy",
      "POLICY",
      "expire",
      false,
      "At the deadline with data still queued: 'complete' sends CONTINUE (data lost), 'expire'"
          + " sends nothing and lets the hook's DefaultResult apply, 'retain' sends ABANDON so a"
          + " group with TerminateHookAbandon=retain keeps the instance until it drains."),
  DEADLINE_MARGIN(
      "deadline-margin",
      "DURATION",
      "5m",
      false,
      "The deadline is the hook's global timeout minus this margin (0s to 24h)."),
  MAX_HOLD(
      "max-hold",
      "DURATION",
      null,
      false,
      "Optional earlier deadline: at most this long after termination is noticed (1m to 48h)."),
  BEFORE_COMPLETE_COMMAND(
      "before-complete-command",
      "COMMAND",
      null,
      false,
      "Shell command run once when the queues have drained, before CONTINUE is sent; the queues"
          + " are checked again after it."),
  ON_TERMINATION_COMMAND(
      "on-termination-command",
      "COMMAND",
      null,
      false,
      "Shell command run once per event: termination noticed, spot interruption, rebalance"
          + " recommendation (DRAINGUARD_EVENT says which); it never completes anything."),
  COMMAND_TIMEOUT(
      "command-timeout",
      "DURATION",
      "60s",
      false,
      "A command still running after this long is killed and reported (1s to 1h)."),
  PROTECT_WHILE_BUSY(
      "protect-while-busy",
      "BOOL",
      "false",
      false,
      "While in service and busy, protect the instance from scale-in (SetInstanceProtection)."),
  PROTECT_THRESHOLD(
      "protect-threshold",
      "BYTES",
      "0",
      false,
      "Queued bytes above which the instance is busy (0 to 1t)."),
  PROTECT_AFTER(
      "protect-after",
      "DURATION",
      "60s",
      false,
      "How long it must stay busy before it is protected (0s to 1h)."),
  PROTECT_INTERVAL(
      "protect-interval",
      "DURATION",
      "5m",
      false,
      "At most one protection change per this interval, so a flapping queue does not flap the"
          + " API (10s to 24h)."),
  ASG_NAME(
      "asg-name",
      "NAME",
      null,
      false,
      "Auto Scaling group name. Default: the instance tag aws:autoscaling:groupName, else"
          + " DescribeAutoScalingInstances."),
  ASG_FROM_TAGS(
      "asg-from-tags",
      "BOOL",
      "true",
      false,
      "Read the group name from instance metadata tags before asking the Auto Scaling API."),
  HOOK_NAME(
      "hook-name",
      "NAME",
      null,
      false,
      "Termination lifecycle hook name. Default: the group's only EC2_INSTANCE_TERMINATING"
          + " hook."),
  REGION("region", "REGION", null, false, "AWS region. Default: from instance metadata."),
  IMDS_ENDPOINT(
      "imds-endpoint",
      "URL",
      "http://169.254.169.254",
      false,
      "Instance metadata service endpoint (IMDSv2)."),
  AUTOSCALING_ENDPOINT(
      "autoscaling-endpoint",
      "URL",
      null,
      false,
      "Auto Scaling API endpoint. Default: the region's endpoint."),
  IMDS_POLL_INTERVAL(
      "imds-poll-interval",
      "DURATION",
      "5s",
      false,
      "How often the target lifecycle state is read while in service (1s to 5m)."),
  IMDS_STARTUP_TIMEOUT(
      "imds-startup-timeout",
      "DURATION",
      "2m",
      false,
      "At start, how long to keep trying an unreachable IMDS before exiting 1 (0s to 1h)."),
  LOOPBACK_ONLY(
      "loopback-only",
      "BOOL",
      "false",
      false,
      "Refuse every endpoint (IMDS, Auto Scaling, Cribl API) whose host is not a literal"
          + " loopback address, 127.0.0.0/8 or ::1 ([::1] in a URL); a host name is refused,"
          + " localhost too, because looking it up could itself leave the machine. For tests and"
          + " rehearsals."),
  LOG_LEVEL("log-level", "LEVEL", "info", false, "error, warn, info, debug or trace."),
  CONTROL_SOCKET(
      "control-socket",
      "PATH",
      "/run/drainguard/control.sock",
      false,
      "Unix socket where the agent answers status, hold and release (mode 0660, group"
          + " drainguard)."),
  CONTROL_GROUP(
      "control-group",
      "GROUP",
      "drainguard",
      false,
      "Group given the control socket: its members may use status, hold and release (and"
          + " release --force loses data: membership is operator power)."),
  STATE_DIRECTORY(
      "state-directory",
      "PATH",
      null,
      false,
      "Directory where an operator's hold is kept across restarts. Default: systemd's"
          + " $STATE_DIRECTORY (/var/lib/drainguard for the packaged service); without one, a"
          + " restart forgets a hold."),
  METRICS_PORT(
      "metrics-port",
      "PORT",
      null,
      false,
      "Serve Prometheus metrics at /metrics on this port (1 to 65535). Default: off."),
  METRICS_BIND(
      "metrics-bind",
      "ADDRESS",
      "127.0.0.1",
      false,
      "Literal IP address the metrics server binds; loopback unless set explicitly. Any"
          + " other address needs metrics-allow-remote."),
  STATSD_ADDRESS(
      "statsd-address",
      "[ADDRESS:]PORT",
      null,
      false,
      "Send fleet metrics over StatsD (UDP) to this literal address and port, e.g. the local"
          + " CloudWatch, Datadog or Telegraf agent; a port alone means 127.0.0.1; [::1]:PORT for"
          + " IPv6; refused unless loopback under loopback-only. Default: off."),
  STATSD_FLAVOR(
      "statsd-flavor",
      "FLAVOR",
      "datadog",
      false,
      "StatsD line format: datadog (tags as |#key:value; Datadog's and the CloudWatch agent read"
          + " it), telegraf (Telegraf's tags) or etsy (tags folded into dotted names)."),
  STALL_AFTER(
      "stall-after",
      "DURATION",
      "5m",
      false,
      "While holding, a queue whose bytes have not gone down for this long is reported as stalled"
          + " (log, status, DRAINGUARD_EVENT=drain-stalled) (1m to 24h)."),
  METRICS_ALLOW_REMOTE(
      "metrics-allow-remote",
      "BOOL",
      "false",
      false,
      "Allow a metrics-bind that is not a loopback address (other hosts can then read the"
          + " metrics); refused with loopback-only.");

  private final String key;
  private final String label;
  private final String defaultValue;
  private final boolean multiple;
  private final String description;

  Setting(String key, String label, String defaultValue, boolean multiple, String description) {
    this.key = key;
    this.label = label;
    this.defaultValue = defaultValue;
    this.multiple = multiple;
    this.description = description;
  }

  /** The config file key; the flag is {@code --key}. */
  public String key() {
    return key;
  }

  public String flag() {
    return "--" + key;
  }

  public String env() {
    return "DRAINGUARD_" + key.toUpperCase(Locale.ROOT).replace('-', '_');
  }

  public String label() {
    return label;
  }

  /**
   * The default as written in a config file, or {@code null} when there is none or it is computed.
   */
  public String defaultValue() {
    return defaultValue;
  }

  public boolean multiple() {
    return multiple;
  }

  /**
   * Whether the setting is true or false: its flag works alone ({@code --loopback-only}, true) and
   * with a value ({@code --loopback-only=false}); the environment and file take a value.
   */
  public boolean isBoolean() {
    return label.equals("BOOL");
  }

  public String description() {
    return description;
  }

  /** Name, env var and file key, for error messages. */
  String where() {
    return flag() + " (env " + env() + ", file key " + key + ")";
  }
}
