package dev.drainguard.queue;

import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;
import static java.nio.file.StandardWatchEventKinds.OVERFLOW;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state of one queue root: its watch keys and its counted files, kept up to date from watch
 * events and rebuilt by full reconcile scans. Only the watcher thread calls it.
 *
 * <p>When inotify refuses a watch because the user's watches are used up, the root lets go of its
 * watches and is <em>polled</em>: walked in full every {@link WatcherLoop#POLL_INTERVAL}, its
 * watches tried again every {@link WatcherLoop#WATCH_RETRY_INTERVAL}. A polled walk that finds the
 * root empty after it held data is believed only when the next walk agrees, so that a file moved
 * across the walk cannot make it look empty.
 *
 * <p>Events are batched: {@link #take} only records which paths were touched; {@link #settle}
 * re-stats each touched path once (in its {@link RootTree}), so a burst of events costs one pass.
 * The root itself may be a symlink to a directory.
 */
final class RootTracker {

  private static final Logger log = LoggerFactory.getLogger(RootTracker.class);

  /** Why a full scan ran; shown in the DEBUG line. */
  enum Reason {
    START,
    ADDED,
    PERIODIC,
    OVERFLOW,
    INVALID_KEY,
    RECHECK,
    RESCAN,
    IO_ERROR,
    POLL,
    WATCH_RETRY
  }

  private final Path root;
  private final long residualBytes;
  private final RootTree tree;

  /** Why the root is polled instead of watched; null while it is watched. */
  private String polled;

  /** A polled walk found the root empty after it held data: the next walk must agree. */
  private boolean emptyUnconfirmed;

  /** Touched paths since the last settle; true when the path was created or deleted. */
  private final Map<Path, Boolean> touched = new LinkedHashMap<>();

  private final List<WatchKey> toReset = new ArrayList<>();

  /** Keys signalled and not taken yet: their events keep accumulating (and coalescing) in them. */
  private final List<WatchKey> arrived = new ArrayList<>();

  /** Test hooks: keys of this directory are held back; runs before each read of the disk. */
  private Path holdForTest;

  private final List<WatchKey> heldForTest = new ArrayList<>();
  private Runnable beforeReadsForTest = () -> {};

  private Reason reconcileNeeded;
  private String error;
  private RootJudgement judgement;

  RootTracker(QueueRootSpec spec, WatchService watchService) {
    this.root = spec.root().toAbsolutePath().normalize();
    this.residualBytes = spec.residualBytes();
    this.tree =
        new RootTree(
            root,
            new DirWatches(watchService),
            new CountedFiles(root, new IgnoreRules(root, spec.ignoreGlobs())));
    this.judgement =
        RootJudgement.failed(root, residualBytes, "queue root " + root + " not scanned");
  }

  Path root() {
    return root;
  }

  WatchService watchService() {
    return tree.watches().service();
  }

  /** Whether the root is polled (see the class comment). */
  boolean polled() {
    return polled != null;
  }

  /**
   * A key this root's watch service returned: its events are left in it, where the JDK coalesces
   * repeats (a write after a write to the same file is one event), until {@link #takeArrived}.
   */
  void arrive(WatchKey key) {
    arrived.add(key);
  }

  /** Whether a key arrived since the last {@link #takeArrived}. */
  boolean hasArrived() {
    return !arrived.isEmpty();
  }

  /** Takes the events of every key that arrived; {@link #settle} applies them. */
  void takeArrived() {
    for (int i = 0; i < arrived.size(); i++) {
      take(arrived.get(i));
    }
    arrived.clear();
  }

  /**
   * Records the events of a key this root's watch service returned; keys we cancelled are skipped.
   */
  private void take(WatchKey key) {
    Path dir = tree.watches().dirOf(key);
    if (holdForTest != null && holdForTest.equals(dir)) {
      heldForTest.add(key);
      return;
    }
    toReset.add(key);
    for (WatchEvent<?> event : key.pollEvents()) {
      if (dir != null) {
        onEvent(dir, event.kind(), event.context());
      }
    }
  }

  /** One watch event for {@code dir}; package-private so tests can inject an OVERFLOW. */
  void onEvent(Path dir, WatchEvent.Kind<?> kind, Object context) {
    if (kind == OVERFLOW) {
      if (reconcileNeeded != Reason.OVERFLOW) {
        log.warn("queue watch overflow root={} dir={}; reconciling", root, dir);
      }
      reconcileNeeded = Reason.OVERFLOW;
    } else if (context instanceof Path name) {
      touched.merge(dir.resolve(name), kind != ENTRY_MODIFY, Boolean::logicalOr);
    }
  }

  /**
   * Applies what {@link #take} recorded, re-arms the keys, and reconciles when events were lost.
   */
  void settle() {
    if (!touched.isEmpty()) {
      beforeReadsForTest.run();
    }
    if (reconcileNeeded == null && error == null) {
      applyTouched();
    }
    touched.clear();
    for (WatchKey key : toReset) {
      if (!key.reset() && tree.watches().dirOf(key) != null && reconcileNeeded == null) {
        reconcileNeeded = Reason.INVALID_KEY; // a watched directory went away unannounced
      }
    }
    toReset.clear();
    if (reconcileNeeded != null) {
      reconcile(reconcileNeeded);
    }
  }

  /**
   * Cheap check run every second: a root in error is rescanned once it is a directory again; a
   * healthy root is rescanned when one of its keys was cancelled silently (a polling watch service
   * such as Jimfs's cancels the key of a deleted directory without signalling it).
   */
  void healthCheck() {
    if (error != null) {
      if (Files.isDirectory(root)) {
        reconcile(Reason.RECHECK);
      }
    } else if (tree.watches().anyInvalid()) {
      reconcile(Reason.INVALID_KEY);
    }
  }

  /**
   * Walks a polled root, the only way its changes are seen; with {@code retryWatches}, registers
   * its directories again, and it is watched once they all are.
   */
  void poll(boolean retryWatches) {
    if (polled != null && error == null) {
      reconcile(retryWatches ? Reason.WATCH_RETRY : Reason.POLL);
    }
  }

  /**
   * Rebuilds the state from a walk of the tree, re-registering every directory before listing it
   * (unless the root is polled and this is a poll or a rescan).
   */
  void reconcile(Reason reason) {
    beforeReadsForTest.run();
    reconcileNeeded = null;
    touched.clear();
    RootJudgement before = judgement();
    CountedFiles.Saved saved = tree.files().saveAndClear();
    boolean registering = polled == null || (reason != Reason.POLL && reason != Reason.RESCAN);
    tree.registering(registering);
    tree.forgetAll();
    try {
      BasicFileAttributes attrs = Files.readAttributes(root, BasicFileAttributes.class);
      if (!attrs.isDirectory()) {
        fail("queue root " + root + " is not a directory");
        return;
      }
      tree.scan(root);
    } catch (IOException e) {
      tree.forgetAll();
      fail(describe(root, e));
      return;
    } finally {
      registering &= !checkWatchLimit();
      tree.registering(polled == null);
    }
    if (registering && polled != null) {
      log.info("queue root watched again root={} dirs={}", root, tree.watches().size());
      polled = null;
      tree.registering(true);
      judgement = null;
    }
    boolean seemsDrained =
        polled != null && before.error().isEmpty() && !before.empty() && judgement().empty();
    if (seemsDrained && !emptyUnconfirmed) {
      tree.files().restore(saved); // a file moved across this walk was not seen: ask the next walk
      judgement = null;
      emptyUnconfirmed = true;
    } else {
      emptyUnconfirmed = false;
    }
    boolean recovered = error != null;
    error = null;
    RootJudgement j = judgement();
    if (recovered) {
      log.info("queue root available root={} files={} bytes={}", root, j.files(), j.bytes());
    }
    log.debug(
        "queue root reconciled root={} reason={} dirs={} files={} bytes={}",
        root,
        reason,
        tree.watches().size(),
        j.files(),
        j.bytes());
  }

  /** Puts the root in error with counts zero; it is retried by {@link #healthCheck}. */
  void fail(String reason) {
    tree.forgetAll();
    emptyUnconfirmed = false;
    if (!reason.equals(error)) {
      log.warn("queue root unavailable root={} reason={}", root, reason);
    }
    error = reason;
    judgement = null;
  }

  RootJudgement judgement() {
    if (tree.takeChanged() || judgement == null) {
      judgement = tree.files().judge(residualBytes, error, polled);
    }
    return judgement;
  }

  /** Test hook: drops the counted files as if their events had been missed. */
  void forgetFiles() {
    tree.files().clear();
    tree.changed();
  }

  /** Test hook: holds back the keys of {@code dir}; null applies the held keys, holds no more. */
  void holdKeys(Path dir) {
    holdForTest = dir;
    if (dir == null) {
      List<WatchKey> held = List.copyOf(heldForTest);
      heldForTest.clear();
      held.forEach(this::take);
    }
  }

  /** Test hook: {@code action} runs each time this root starts reading the disk. */
  void beforeReads(Runnable action) {
    beforeReadsForTest = action;
  }

  /** Test hook: inotify refuses watches beyond {@code n} for this root. */
  void limitWatches(int n) {
    tree.watches().limitForTest(n);
  }

  void close() {
    try {
      tree.watches().service().close();
    } catch (IOException e) {
      log.debug("closing watch service failed root={} error={}", root, e.toString());
    }
  }

  /** One line naming what is wrong and the path. */
  static String describe(Path root, IOException e) {
    String where = e instanceof FileSystemException f ? f.getFile() : null;
    boolean atRoot = where == null || root.toString().equals(where);
    if (e instanceof NoSuchFileException && atRoot) {
      return "queue root " + root + " does not exist";
    }
    if (e instanceof NotDirectoryException && atRoot) {
      return "queue root " + root + " is not a directory";
    }
    if (e instanceof AccessDeniedException) {
      return "queue root " + root + " is not readable: access denied to " + (atRoot ? root : where);
    }
    return "queue root " + root + " cannot be read: " + e;
  }

  private void applyTouched() {
    try {
      for (Map.Entry<Path, Boolean> t : touched.entrySet()) {
        tree.apply(t.getKey(), t.getValue());
      }
    } catch (IOException e) {
      log.debug("queue event apply failed root={} error={}", root, e.toString());
      reconcileNeeded = Reason.IO_ERROR;
    } finally {
      checkWatchLimit();
    }
  }

  /** Whether the tree met the inotify watch limit: the root is polled from now on. */
  private boolean checkWatchLimit() {
    IOException e = tree.takeWatchLimit();
    if (e == null) {
      return false;
    }
    if (polled == null) {
      log.warn(
          "queue root cannot be watched, polling it root={} dirsWatched={} reason=\"{}\"",
          root,
          tree.watchedAtLimit(),
          e.getMessage());
    }
    polled = DirWatches.pollingReason(e);
    judgement = null;
    return true;
  }
}
