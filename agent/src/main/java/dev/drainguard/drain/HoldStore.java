package dev.drainguard.drain;

import dev.drainguard.operator.Caller;
import dev.drainguard.operator.OperatorText;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.Properties;

/**
 * Where an operator's hold outlives the agent: one small file in the state directory (systemd's
 * {@code StateDirectory=}, {@code /var/lib/drainguard}), written when a hold is taken and deleted
 * when it is released, so that a restarted agent holds again instead of completing the moment the
 * queues are empty. The file names the instance it was taken on: a state directory baked into an
 * image never holds another instance.
 */
public final class HoldStore {

  /** The file in the state directory. */
  public static final String FILE = "operator-hold.properties";

  /** A saved hold is a few hundred bytes; anything much larger is not ours. */
  static final int MAX_BYTES = 16 * 1024;

  /** Keeps nothing: holds last as long as the agent runs. */
  public static final HoldStore NONE = new HoldStore(null);

  /**
   * A hold as saved.
   *
   * @param reason as the operator gave it, already cleaned
   * @param instanceId the instance it was taken on
   */
  public record Saved(Caller caller, String reason, Instant since, String instanceId) {}

  private final Path file;

  private HoldStore(Path file) {
    this.file = file;
  }

  /** A store in {@code directory}, created (0700) on the first save when it does not exist. */
  public static HoldStore in(Path directory) {
    return new HoldStore(directory.resolve(FILE));
  }

  /** The file holds are kept in; empty for {@link #NONE}. */
  public Optional<Path> file() {
    return Optional.ofNullable(file);
  }

  /**
   * The hold saved by an earlier run, if there is one.
   *
   * @throws IOException when a file is there but cannot be read or is not a saved hold
   */
  public Optional<Saved> load() throws IOException {
    if (file == null || !Files.exists(file)) {
      return Optional.empty();
    }
    if (Files.size(file) > MAX_BYTES) {
      throw new IOException(file + " is larger than " + MAX_BYTES + " bytes");
    }
    Properties p = new Properties();
    p.load(new StringReader(Files.readString(file, StandardCharsets.UTF_8)));
    try {
      return Optional.of(
          new Saved(
              new Caller(Long.parseLong(required(p, "uid")), required(p, "user")),
              restoredReason(required(p, "reason")),
              Instant.parse(required(p, "since")),
              OperatorText.clean(required(p, "instance"), 64)));
    } catch (NumberFormatException | DateTimeParseException e) {
      throw new IOException(file + " is not a saved hold: " + e.getMessage(), e);
    }
  }

  /** Saves {@code hold}, replacing any saved before, atomically (write, sync, rename). */
  public void save(Saved hold) throws IOException {
    if (file == null) {
      return;
    }
    Path dir = file.getParent();
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir);
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    }
    Properties p = new Properties();
    p.setProperty("v", "1");
    p.setProperty("uid", Long.toString(hold.caller().uid()));
    p.setProperty("user", hold.caller().user());
    p.setProperty("reason", hold.reason());
    p.setProperty("since", hold.since().toString());
    p.setProperty("instance", hold.instanceId());
    StringWriter text = new StringWriter();
    p.store(text, "drainguard: an operator's hold; 'drainguard release' deletes it");
    Path tmp = dir.resolve("." + FILE + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(
        tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ch.write(StandardCharsets.UTF_8.encode(text.toString()));
      ch.force(true);
    }
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
    syncDirectory(dir);
  }

  /** Forgets the saved hold; nothing when there is none. */
  public void clear() throws IOException {
    if (file != null && Files.deleteIfExists(file)) {
      syncDirectory(file.getParent());
    }
  }

  /**
   * The reason as saved: cleaned when it was taken (so not cleaned again, which would escape its
   * escapes), but a file edited by hand still cannot bring control characters or a novel.
   */
  private static String restoredReason(String saved) {
    String r = OperatorText.display(saved);
    return r.length() <= OperatorText.MAX_REASON
        ? r
        : r.substring(0, OperatorText.MAX_REASON - 1) + "…";
  }

  private static String required(Properties p, String key) throws IOException {
    String v = p.getProperty(key);
    if (v == null) {
      throw new IOException("a saved hold without '" + key + "'");
    }
    return v;
  }

  /** So that a rename or delete survives a power cut; best effort where a directory cannot sync. */
  private static void syncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // the rename itself stands; only its durability across a power cut is weaker
    }
  }
}
