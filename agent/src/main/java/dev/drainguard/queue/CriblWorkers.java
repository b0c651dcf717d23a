package dev.drainguard.queue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drainguard.proc.ProcFiles;
import java.io.IOException;
import java.nio.file.Path;

/**
 * How many worker processes the Cribl node runs, and where that number came from: the operator
 * ({@code cribl-worker-processes = N}), or, with {@code auto}, the node's own settings ({@code GET
 * /api/v1/system/settings/conf}, {@code workers.count} and {@code workers.minimum}) put through
 * Cribl's rule, or that rule with Cribl's defaults when the settings cannot be read.
 *
 * <p>Cribl's rule (Sizing and Scaling, "Process count"): a positive count is the number of
 * processes; a negative one is that many fewer than the host's CPUs (the default is -2); 0 or none
 * is the default; the result is at most the CPUs and at least the "Minimum process count" (default
 * 2, which a 0 also means), the minimum winning. A licence limit or {@code CRIBL_MAX_WORKERS} can
 * make Cribl run fewer: the processes asked for that do not run answer without {@code
 * pq.queue_size}, which reads unknown, never empty.
 *
 * @param count how many processes are asked, {@code wp=0} to {@code wp=count-1}
 * @param source where the number came from, for describe(), check and unknown readings
 */
record CriblWorkers(int count, String source) {

  static final String SETTINGS_PATH = "/api/v1/system/settings/conf";

  /** Cribl's default "Process count": two fewer than the CPUs. */
  static final int DEFAULT_COUNT = -2;

  /** Cribl's default "Minimum process count". */
  static final int DEFAULT_MINIMUM = 2;

  private static final ObjectMapper JSON = new ObjectMapper();

  static CriblWorkers configured(int count) {
    return new CriblWorkers(count, "cribl-worker-processes = " + count);
  }

  /** What Cribl runs for {@code processCount} and {@code minimum} on {@code cpus} CPUs. */
  static int criblWouldRun(int processCount, int minimum, int cpus) {
    int count = processCount == 0 ? DEFAULT_COUNT : processCount;
    int floor = minimum <= 0 ? DEFAULT_MINIMUM : minimum;
    int wanted = count > 0 ? count : cpus + count;
    return Math.max(1, Math.max(floor, Math.min(wanted, cpus)));
  }

  /**
   * From the answer to {@code GET /api/v1/system/settings/conf}: {@code {"items":[{"workers":
   * {"count":C,"minimum":M,...}}]}} (or the settings object itself).
   *
   * @throws IllegalArgumentException when the answer holds no {@code workers} settings
   */
  static CriblWorkers fromSettings(String body, int cpus) {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (IOException e) {
      throw new IllegalArgumentException("the settings answer is not JSON");
    }
    JsonNode settings = root == null ? null : root.path("items").path(0);
    if (settings == null || settings.isMissingNode()) {
      settings = root;
    }
    JsonNode workers = settings == null ? null : settings.get("workers");
    if (workers == null || !workers.isObject()) {
      throw new IllegalArgumentException("the settings answer has no workers settings");
    }
    int count = workers.path("count").asInt(DEFAULT_COUNT);
    int minimum = workers.path("minimum").asInt(DEFAULT_MINIMUM);
    return new CriblWorkers(
        criblWouldRun(count, minimum, cpus),
        "auto: Cribl settings workers.count "
            + count
            + ", minimum "
            + minimum
            + " on "
            + cpus
            + " CPUs");
  }

  /** Cribl's defaults on this host, when its settings cannot be read, and why. */
  static CriblWorkers defaults(int cpus, String why) {
    return new CriblWorkers(
        criblWouldRun(DEFAULT_COUNT, DEFAULT_MINIMUM, cpus),
        "auto: Cribl's defaults (count -2, minimum 2) on " + cpus + " CPUs; " + why);
  }

  /**
   * The CPUs online, as Cribl counts them (all of the host's, whatever this agent's own CPU
   * affinity or quota): {@code /sys/devices/system/cpu/online}, else what the JVM sees.
   */
  static int hostCpus() {
    try {
      int n = parseCpuList(ProcFiles.read(Path.of("/sys/devices/system/cpu/online")));
      if (n > 0) {
        return n;
      }
    } catch (IOException | RuntimeException e) {
      // fall through
    }
    return Runtime.getRuntime().availableProcessors();
  }

  /** Counts a kernel CPU list: {@code 0-3,6,8-9} is 7. */
  static int parseCpuList(String list) {
    int n = 0;
    for (String part : list.strip().split(",")) {
      if (part.isEmpty()) {
        continue;
      }
      int dash = part.indexOf('-');
      n +=
          dash < 0
              ? 1
              : Integer.parseInt(part.substring(dash + 1))
                  - Integer.parseInt(part.substring(0, dash))
                  + 1;
    }
    return n;
  }
}
