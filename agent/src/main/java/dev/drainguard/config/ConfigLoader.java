package dev.drainguard.config;

import dev.drainguard.drain.DeadlinePolicy;
import dev.drainguard.metrics.StatsdFlavor;
import dev.drainguard.net.Endpoint;
import dev.drainguard.queue.CommandProbe;
import dev.drainguard.queue.CriblApiProbe;
import dev.drainguard.queue.DrainedWhen;
import java.net.URI;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Resolves every {@link Setting} from flags, then {@code DRAINGUARD_*} environment variables, then
 * the config file, then the default, and validates it into an {@link AgentConfig}. Every problem is
 * a {@link ConfigException} whose one-line message names the setting, where the bad value came from
 * and what is accepted.
 */
public final class ConfigLoader {

  /** The config file read when neither --config nor DRAINGUARD_CONFIG names one. */
  public static final Path DEFAULT_CONFIG_FILE = Path.of("/etc/drainguard/drainguard.conf");

  public static final String CONFIG_ENV = "DRAINGUARD_CONFIG";

  /** The largest residual allowance, per root or global. */
  static final long MAX_RESIDUAL = 1L << 30;

  static final String ROOT_ACCEPTED =
      "'auto', or an absolute directory path, optionally followed by :ignore=GLOB[,GLOB...] and"
          + " :residual=BYTES (0 to "
          + MAX_RESIDUAL
          + ")";

  private static final List<String> LOG_LEVELS = List.of("error", "warn", "info", "debug", "trace");

  private final Map<Setting, List<String>> flags;
  private final Map<String, String> env;
  private final Optional<Path> configFlag;
  private Map<Setting, List<ConfigFile.Entry>> file = Map.of();

  /**
   * @param flags values given on the command line (a list per setting, possibly comma-joined)
   * @param env the process environment (System.getenv() in production)
   * @param configFlag the --config value, if given
   */
  public ConfigLoader(
      Map<Setting, List<String>> flags, Map<String, String> env, Optional<Path> configFlag) {
    this.flags = new EnumMap<>(Setting.class);
    this.flags.putAll(flags);
    this.env = Map.copyOf(env);
    this.configFlag = configFlag;
  }

  /** Resolves flags, environment, the config file and defaults. */
  public AgentConfig load() {
    Optional<Path> configFile = configFile();
    configFile.ifPresent(f -> file = ConfigFile.read(f));
    return build(configFile);
  }

  /** Resolves flags, environment and defaults only: for rehearsals that must not read /etc. */
  public AgentConfig loadWithoutFile() {
    return build(Optional.empty());
  }

  private AgentConfig build(Optional<Path> configFile) {
    Duration margin = duration(Setting.DEADLINE_MARGIN, Duration.ZERO, Duration.ofHours(24));
    List<String> globs = globs(Setting.IGNORE_GLOB);
    long residual = bytes(Setting.RESIDUAL_BYTES, 0, MAX_RESIDUAL);
    Optional<String> probeCommand = string(Setting.QUEUE_PROBE_COMMAND);
    Optional<URI> cribl = uri(Setting.CRIBL_API_URL);
    Optional<Path> tokenFile =
        parsed(Setting.CRIBL_TOKEN_FILE, "an absolute path", ConfigLoader::absolute);
    if (tokenFile.isPresent() && cribl.isEmpty()) {
      throw new ConfigException(
          Setting.CRIBL_TOKEN_FILE.where()
              + " is set but "
              + Setting.CRIBL_API_URL.flag()
              + " is not: set the API URL too, or drop the token file");
    }
    Optional<Raw> rootsRaw = raw(Setting.QUEUE_ROOT);
    QueueRootValues roots =
        QueueRootValues.resolve(
            rootsRaw.map(Raw::values),
            rootsRaw.map(Raw::origin).orElse("default"),
            env,
            globs,
            residual);
    return new AgentConfig(
        roots.roots(),
        probeCommand,
        cribl,
        tokenFile,
        workerProcesses(),
        duration(Setting.PROBE_INTERVAL, Duration.ofSeconds(1), Duration.ofHours(1)),
        duration(Setting.PROBE_TIMEOUT, Duration.ofSeconds(1), Duration.ofMinutes(10)),
        drainedWhen(probeCommand.isPresent(), cribl.isPresent()),
        duration(Setting.QUIET_PERIOD, Duration.ZERO, Duration.ofHours(1)),
        duration(Setting.RECONCILE_INTERVAL, Duration.ofSeconds(1), Duration.ofHours(1)),
        duration(Setting.HEARTBEAT_INTERVAL, Duration.ofSeconds(1), Duration.ofHours(2)),
        duration(Setting.ACTION_GRACE, Duration.ZERO, Duration.ofHours(2)),
        choice(Setting.DEADLINE_POLICY, DeadlinePolicy.class),
        margin,
        optionalDuration(Setting.MAX_HOLD, Duration.ofMinutes(1), Duration.ofHours(48)),
        string(Setting.BEFORE_COMPLETE_COMMAND),
        string(Setting.ON_TERMINATION_COMMAND),
        duration(Setting.COMMAND_TIMEOUT, Duration.ofSeconds(1), Duration.ofHours(1)),
        bool(Setting.PROTECT_WHILE_BUSY),
        bytes(Setting.PROTECT_THRESHOLD, 0, 1L << 40),
        duration(Setting.PROTECT_AFTER, Duration.ZERO, Duration.ofHours(1)),
        duration(Setting.PROTECT_INTERVAL, Duration.ofSeconds(10), Duration.ofHours(24)),
        string(Setting.ASG_NAME),
        bool(Setting.ASG_FROM_TAGS),
        string(Setting.HOOK_NAME),
        string(Setting.REGION),
        AwsEndpoints.resolve(this::endpoint, new StandardAwsSettings(env, System::getProperty)),
        duration(Setting.IMDS_POLL_INTERVAL, Duration.ofSeconds(1), Duration.ofMinutes(5)),
        duration(Setting.IMDS_STARTUP_TIMEOUT, Duration.ZERO, Duration.ofHours(1)),
        bool(Setting.LOOPBACK_ONLY),
        parsed(Setting.LOG_LEVEL, "one of " + String.join(", ", LOG_LEVELS), ConfigLoader::level)
            .orElseThrow(),
        parsed(Setting.CONTROL_SOCKET, "an absolute path", ConfigLoader::absolute).orElseThrow(),
        parsed(Setting.CONTROL_GROUP, "a group name", Values::name).orElseThrow(),
        parsed(Setting.STATE_DIRECTORY, "an absolute path", ConfigLoader::absolute)
            .or(() -> Values.systemdStateDirectory(env)),
        parsed(Setting.METRICS_PORT, "a port from 1 to 65535", Values::port),
        parsed(Setting.METRICS_BIND, "a literal IPv4 or IPv6 address", Values::ipLiteral)
            .orElseThrow(),
        StatsdAddress.loopbackUnderLoopbackOnly(
            parsed(Setting.STATSD_ADDRESS, StatsdAddress.ACCEPTED, StatsdAddress::parse),
            bool(Setting.LOOPBACK_ONLY)),
        choice(Setting.STATSD_FLAVOR, StatsdFlavor.class),
        duration(Setting.STALL_AFTER, Duration.ofMinutes(1), Duration.ofHours(24)),
        bool(Setting.METRICS_ALLOW_REMOTE),
        configFile,
        roots.criblHome(),
        roots.auto());
  }

  private Optional<Path> configFile() {
    if (configFlag.isPresent()) {
      return configFlag;
    }
    String fromEnv = env.get(CONFIG_ENV);
    if (fromEnv != null && !fromEnv.isBlank()) {
      return Optional.of(Path.of(fromEnv.strip()));
    }
    return Files.exists(DEFAULT_CONFIG_FILE) ? Optional.of(DEFAULT_CONFIG_FILE) : Optional.empty();
  }

  /** The raw values of a setting and where they came from, by precedence. */
  private record Raw(List<String> values, String origin) {}

  private Optional<Raw> raw(Setting s) {
    List<String> fromFlags = flags.get(s);
    if (fromFlags != null && !fromFlags.isEmpty()) {
      return Optional.of(new Raw(split(s, fromFlags), "flag " + s.flag()));
    }
    String fromEnv = env.get(s.env());
    if (fromEnv != null) {
      return Optional.of(new Raw(split(s, List.of(fromEnv)), "env " + s.env()));
    }
    List<ConfigFile.Entry> fromFile = file.get(s);
    if (fromFile != null && !fromFile.isEmpty()) {
      return Optional.of(
          new Raw(
              split(s, fromFile.stream().map(ConfigFile.Entry::value).toList()),
              fromFile.get(0).origin()));
    }
    if (s.defaultValue() != null) {
      return Optional.of(new Raw(List.of(s.defaultValue()), "default"));
    }
    return Optional.empty();
  }

  private static List<String> split(Setting s, List<String> values) {
    if (!s.multiple()) {
      return values.subList(values.size() - 1, values.size());
    }
    // A queue root's own ignore list has commas too: there a comma starts a new root only when an
    // absolute path or 'auto' follows it (globs are relative to their root).
    // Glob alternatives ({a,b}) hold commas of their own, so commas inside braces never split.
    List<String> out = new ArrayList<>();
    for (String v : values) {
      List<String> items =
          s == Setting.QUEUE_ROOT
              ? Arrays.stream(v.split(",(?=\\s*(?:/|auto\\s*(?:,|$)))")).map(String::strip).toList()
              : Values.splitList(v);
      items.stream().filter(x -> !x.isEmpty()).forEach(out::add);
    }
    return out;
  }

  private <T> Optional<T> parsed(Setting s, String accepted, Function<String, T> parser) {
    Optional<Raw> raw = raw(s);
    if (raw.isEmpty()) {
      return Optional.empty();
    }
    String value = raw.get().values().get(0);
    try {
      return Optional.of(parser.apply(value));
    } catch (IllegalArgumentException e) {
      throw invalid(s, value, raw.get().origin(), accepted);
    }
  }

  private static ConfigException invalid(Setting s, String value, String origin, String accepted) {
    return new ConfigException(
        String.format(
            "invalid %s '%s' (from %s): expected %s", s.where(), value, origin, accepted));
  }

  private Duration duration(Setting s, Duration min, Duration max) {
    return optionalDuration(s, min, max).orElseThrow();
  }

  private Optional<Duration> optionalDuration(Setting s, Duration min, Duration max) {
    String accepted =
        "a duration like 30s, 5m or 2h from " + Values.format(min) + " to " + Values.format(max);
    return parsed(
        s,
        accepted,
        v -> {
          Duration d = Values.duration(v);
          if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw new IllegalArgumentException("out of range");
          }
          return d;
        });
  }

  private long bytes(Setting s, long min, long max) {
    return parsed(
            s,
            "a byte count like 4096, 64k or 10m from " + min + " to " + max,
            v -> {
              long b = Values.bytes(v);
              if (b < min || b > max) {
                throw new IllegalArgumentException("out of range");
              }
              return b;
            })
        .orElseThrow();
  }

  private int integer(Setting s, int min, int max) {
    return parsed(
            s,
            "a whole number from " + min + " to " + max,
            v -> {
              int n = Integer.parseInt(v.strip());
              if (n < min || n > max) {
                throw new IllegalArgumentException("out of range");
              }
              return n;
            })
        .orElseThrow();
  }

  /** {@code auto} ({@link CriblApiProbe#AUTO}: learned from the API) or 1 to 256. */
  private int workerProcesses() {
    return parsed(
            Setting.CRIBL_WORKER_PROCESSES,
            "auto, or a whole number from 1 to 256",
            v -> {
              if (v.strip().equalsIgnoreCase("auto")) {
                return CriblApiProbe.AUTO;
              }
              int n = Integer.parseInt(v.strip());
              if (n < 1 || n > 256) {
                throw new IllegalArgumentException("out of range");
              }
              return n;
            })
        .orElseThrow();
  }

  private boolean bool(Setting s) {
    if (!s.isBoolean()) {
      // its flag would then need a value: label it BOOL, so that --flag alone means true
      throw new IllegalStateException(s + " is read as true or false but is not labelled BOOL");
    }
    return parsed(s, "true or false", Values::bool).orElseThrow();
  }

  private Optional<URI> uri(Setting s) {
    return parsed(s, "an http:// or https:// URL with a host", Values::httpUri);
  }

  /** A URL setting with where it came from ({@code default} for the default). */
  private Optional<Endpoint> endpoint(Setting s) {
    return uri(s).map(u -> new Endpoint(u, raw(s).orElseThrow().origin()));
  }

  private Optional<String> string(Setting s) {
    return parsed(
        s,
        "a non-empty value",
        v -> {
          if (v.isBlank()) {
            throw new IllegalArgumentException("blank");
          }
          return v.strip();
        });
  }

  private <E extends Enum<E>> E choice(Setting s, Class<E> type) {
    List<String> names =
        Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase(Locale.ROOT)).toList();
    return parsed(
            s,
            "one of " + String.join(", ", names),
            v -> Enum.valueOf(type, v.strip().toUpperCase(Locale.ROOT)))
        .orElseThrow();
  }

  /**
   * Globs checked here, where a malformed one is a configuration error (exit 78, one line), not an
   * unexpected failure when the queue watcher starts.
   */
  private List<String> globs(Setting s) {
    Optional<Raw> raw = raw(s);
    if (raw.isEmpty()) {
      return List.of();
    }
    for (String glob : raw.get().values()) {
      try {
        FileSystems.getDefault().getPathMatcher("glob:" + glob);
      } catch (IllegalArgumentException e) {
        throw invalid(s, glob, raw.get().origin(), "a glob like **/*.lock (java.nio glob syntax)");
      }
    }
    return raw.get().values();
  }

  /**
   * {@code --drained-when}, checked against the probes that are configured: naming one that is not
   * would make its verdict vacuous.
   */
  private DrainedWhen drainedWhen(boolean command, boolean cribl) {
    DrainedWhen rule =
        parsed(
                Setting.DRAINED_WHEN,
                "all, any, or probe names from "
                    + String.join(", ", DrainedWhen.PROBES)
                    + " joined by commas",
                DrainedWhen::parse)
            .orElseThrow();
    // each probe --drained-when may name, and the setting that turns it on
    Map<String, Setting> enabledBy =
        Map.of(
            CommandProbe.NAME,
            Setting.QUEUE_PROBE_COMMAND,
            CriblApiProbe.NAME,
            Setting.CRIBL_API_URL);
    Map<String, Boolean> enabled = Map.of(CommandProbe.NAME, command, CriblApiProbe.NAME, cribl);
    for (String probe : rule.named()) {
      if (!enabled.getOrDefault(probe, true)) {
        throw new ConfigException(
            String.format(
                "%s '%s' names the %s probe, which is off: set %s",
                Setting.DRAINED_WHEN.where(), rule, probe, enabledBy.get(probe).flag()));
      }
    }
    return rule;
  }

  private static Path absolute(String v) {
    Path p = Path.of(v.strip());
    if (!p.isAbsolute()) {
      throw new IllegalArgumentException("relative");
    }
    return p.normalize();
  }

  private static String level(String v) {
    String l = v.strip().toLowerCase(Locale.ROOT);
    if (!LOG_LEVELS.contains(l)) {
      throw new IllegalArgumentException("unknown level");
    }
    return l;
  }
}
