package dev.drainguard.cribl;

import dev.drainguard.cribl.CriblBuffer.Exposure;
import dev.drainguard.cribl.CriblHome.Expanded;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Lists the local buffers of a worker from the YAML files Cribl loads: {@code
 * default/cribl/{outputs,inputs}.yml}, then {@code local/cribl/{outputs,inputs}.yml} over them.
 * Keys and defaults are Cribl's (Cribl Stream 4.14 config file reference for outputs.yml and
 * inputs.yml; defaults from the generated Cribl control-plane SDK for Go of January 2026):
 *
 * <ul>
 *   <li>destination PQ: {@code onBackpressure: queue}; {@code pqPath}, default {@code
 *       $CRIBL_HOME/state/queues}, under which Cribl appends {@code /<worker-id>/<output-id>};
 *   <li>source PQ: {@code pqEnabled: true}; {@code pq.path}, same default, under which Cribl
 *       appends {@code /<worker-id>/inputs/<input-id>};
 *   <li>staging: non-streaming destinations; {@code stagePath}, default {@code
 *       $CRIBL_HOME/state/outputs/staging}, plus the output ID unless {@code addIdToStagePath:
 *       false};
 *   <li>dead letters: {@code deadletterEnabled: true}; {@code deadletterPath}, default {@code
 *       $CRIBL_HOME/state/outputs/dead-letter}.
 * </ul>
 *
 * <p>An ID in both files takes each key from the local file when it sets it, else from the default
 * file (a key-by-key merge lists every buffer either file could mean).
 */
public final class CriblDiscovery {

  /** Destination types that stage files locally and have a default stagePath. */
  static final Set<String> STAGING_TYPES =
      Set.of(
          "azure_blob",
          "azure_data_explorer",
          "cloudflare_r2",
          "cribl_lake",
          "databricks",
          "dl_s3",
          "exabeam",
          "filesystem",
          "google_cloud_storage",
          "minio",
          "s3",
          "security_lake");

  private CriblDiscovery() {}

  /** Reads the configuration under {@code home}; never throws for what the files say. */
  public static CriblInventory discover(CriblHome home) {
    Map<String, Merged> outputs = new LinkedHashMap<>();
    Map<String, Merged> inputs = new LinkedHashMap<>();
    List<Path> read = new ArrayList<>();
    Optional<String> error = Optional.empty();
    for (Path file : home.configFiles()) {
      boolean isOutputs = file.getFileName().toString().startsWith("outputs");
      try {
        List<CriblYaml.Entry> entries = CriblYaml.read(file, isOutputs ? "outputs" : "inputs");
        read.add(file);
        for (CriblYaml.Entry e : entries) {
          (isOutputs ? outputs : inputs).computeIfAbsent(e.id(), Merged::new).add(e);
        }
      } catch (NoSuchFileException e) {
        // not there: Cribl reads nothing from it either
      } catch (IOException e) {
        error = error.or(() -> Optional.of(file + " cannot be read: " + e));
      } catch (CriblYaml.MalformedException e) {
        error = error.or(() -> Optional.of(e.getMessage()));
      }
    }
    List<CriblBuffer> buffers = new ArrayList<>();
    outputs.values().forEach(o -> output(home, o, buffers));
    inputs.values().forEach(i -> input(home, i, buffers));
    return new CriblInventory(home, read, buffers, error);
  }

  /** One ID's settings merged across the files, with where each key was set. */
  private static final class Merged {
    final String id;
    final Map<String, Object> settings = new LinkedHashMap<>();
    final Map<String, String> setAt = new LinkedHashMap<>();
    String definedAt;

    Merged(String id) {
      this.id = id;
    }

    void add(CriblYaml.Entry e) {
      settings.putAll(e.settings());
      e.keyLines().keySet().forEach(k -> setAt.put(k, e.where(k)));
      definedAt = e.where();
    }

    String text(String key) {
      return settings.get(key) instanceof String s && !s.isBlank() ? s.strip() : null;
    }

    boolean flag(String key, boolean otherwise) {
      String v = text(key);
      return v == null ? otherwise : v.equalsIgnoreCase("true");
    }

    /** {@code pqPath of output x (file:line)}, or where the output is when the key is unset. */
    String setting(String key, String what) {
      String where = setAt.get(key);
      return where != null
          ? key + " of " + what + " " + id + " (" + where + ")"
          : key
              + " of "
              + what
              + " "
              + id
              + " (unset: Cribl's default; "
              + id
              + " at "
              + definedAt
              + ")";
    }
  }

  private static void output(CriblHome home, Merged o, List<CriblBuffer> out) {
    String type = o.text("type") == null ? "?" : o.text("type");
    String owner = "output " + o.id + " (" + type + ")";
    boolean disabled = o.flag("disabled", false);
    if ("queue".equals(o.text("onBackpressure"))) {
      out.add(
          buffer(
              home,
              owner,
              BufferKind.DESTINATION_PQ,
              disabled,
              o.text("pqPath"),
              CriblHome.QUEUES,
              CriblBuffer.WORKER + "/" + o.id,
              o.setting("pqPath", "output")));
    }
    boolean stages = STAGING_TYPES.contains(type) || o.text("stagePath") != null;
    boolean streamingAdx =
        type.equals("azure_data_explorer") && "streaming".equals(o.text("ingestMode"));
    if (stages && !streamingAdx) {
      String below = o.flag("addIdToStagePath", true) ? o.id : "";
      if (o.text("stagePath") == null && type.equals("filesystem")) {
        // The reference gives Filesystem/NFS no default staging location: its open files are
        // then in a place drainguard cannot tell apart from finished ones.
        out.add(
            new CriblBuffer(
                owner,
                BufferKind.STAGING,
                Exposure.UNJUDGED,
                Optional.empty(),
                below,
                o.setting("stagePath", "output"),
                Optional.of(
                    "no staging location set: set stagePath so its open files can be watched")));
      } else {
        out.add(
            buffer(
                home,
                owner,
                BufferKind.STAGING,
                disabled,
                o.text("stagePath"),
                CriblHome.STAGING,
                below,
                o.setting("stagePath", "output")));
      }
    }
    if (o.flag("deadletterEnabled", false)) {
      CriblBuffer d =
          buffer(
              home,
              owner,
              BufferKind.DEAD_LETTER,
              disabled,
              o.text("deadletterPath"),
              CriblHome.DEAD_LETTER,
              "",
              o.setting("deadletterPath", "output"));
      out.add(
          new CriblBuffer(
              d.owner(),
              d.kind(),
              Exposure.LISTED,
              d.base(),
              d.below(),
              d.setting(),
              d.note().or(() -> Optional.of("never retried: not waited for"))));
    }
  }

  private static void input(CriblHome home, Merged i, List<CriblBuffer> out) {
    if (!i.flag("pqEnabled", false)) {
      return;
    }
    String type = i.text("type") == null ? "?" : i.text("type");
    String path = null;
    String setAt = i.setAt.get("pq.path");
    if (i.settings.get("pq") instanceof Map<?, ?> pq
        && pq.get("path") instanceof String p
        && !p.isBlank()) {
      path = p.strip();
    }
    String setting =
        path != null
            ? "pq.path of input " + i.id + " (" + setAt + ")"
            : "pq.path of input "
                + i.id
                + " (unset: Cribl's default; "
                + i.id
                + " at "
                + i.definedAt
                + ")";
    out.add(
        buffer(
            home,
            "input " + i.id + " (" + type + ")",
            BufferKind.SOURCE_PQ,
            i.flag("disabled", false),
            path,
            CriblHome.QUEUES,
            CriblBuffer.WORKER + "/inputs/" + i.id,
            setting));
  }

  private static CriblBuffer buffer(
      CriblHome home,
      String owner,
      BufferKind kind,
      boolean disabled,
      String configured,
      String defaultUnderHome,
      String below,
      String setting) {
    Optional<Path> base;
    Optional<String> note = Optional.empty();
    Exposure exposure = disabled ? Exposure.LISTED : Exposure.HELD;
    if (configured == null) {
      base = Optional.of(home.home().resolve(defaultUnderHome));
    } else {
      Expanded e = home.expand(configured);
      if (e instanceof Expanded.Resolved r) {
        base = Optional.of(r.path());
      } else {
        base = Optional.empty();
        // still HELD: a queue drainguard cannot locate is a queue no root covers
        note = Optional.of(((Expanded.Unresolved) e).why());
      }
    }
    if (disabled) {
      note = Optional.of(note.map(n -> n + "; ").orElse("") + "disabled: not running");
    }
    return new CriblBuffer(owner, kind, exposure, base, below, setting, note);
  }
}
