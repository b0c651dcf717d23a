package dev.drainguard.queue;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Accounting per file, not per name: the names of one file share one size and count once. */
class CountedFilesTest {

  @TempDir Path root;

  private final List<String> noGlobs = List.of();

  @Test
  void threeNamesOfOneFile_countOnce_shareTheSizeOfWhicheverWasStatted_andGoOneByOne()
      throws Exception {
    CountedFiles files = new CountedFiles(root, new IgnoreRules(root, noGlobs));
    Path a = Files.write(root.resolve("a"), new byte[10]);
    Path b = Files.createLink(root.resolve("b"), a);
    Path c = Files.createLink(root.resolve("c"), a);
    files.record(a, stat(a));
    files.record(b, stat(b));
    files.record(c, stat(c));
    assertThat(judge(files)).containsExactly(1L, 10L);

    Files.write(c, new byte[5], StandardOpenOption.APPEND);
    assertThat(files.record(c, stat(c))).isTrue();
    assertThat(judge(files)).containsExactly(1L, 15L);

    assertThat(files.remove(a)).containsExactlyInAnyOrder(b, c);
    assertThat(files.remove(c)).containsExactly(b);
    assertThat(judge(files)).containsExactly(1L, 15L);
    assertThat(files.remove(b)).isEmpty();
    assertThat(judge(files)).containsExactly(0L, 0L);
  }

  @Test
  void aNameReplacedByAnotherFile_countsTheNewFile() throws Exception {
    CountedFiles files = new CountedFiles(root, new IgnoreRules(root, noGlobs));
    Path a = Files.write(root.resolve("a"), new byte[10]);
    files.record(a, stat(a));
    Path staged = Files.write(root.resolve("staged"), new byte[3]);
    Files.move(staged, a, java.nio.file.StandardCopyOption.REPLACE_EXISTING);

    assertThat(files.record(a, stat(a))).isTrue();
    assertThat(judge(files)).containsExactly(1L, 3L);
    assertThat(files.record(a, stat(a))).isFalse(); // nothing changed since
  }

  @Test
  void ignoredNames_doNotCount_evenWhenAnotherNameOfTheFileDoes() throws Exception {
    CountedFiles files = new CountedFiles(root, new IgnoreRules(root, List.of("*.lock")));
    Path data = Files.write(root.resolve("data"), new byte[7]);
    Path lock = Files.createLink(root.resolve("x.lock"), data);
    files.record(lock, stat(lock));
    assertThat(judge(files)).containsExactly(0L, 0L);
    files.record(data, stat(data));
    assertThat(judge(files)).containsExactly(1L, 7L);
  }

  private static BasicFileAttributes stat(Path p) throws Exception {
    return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
  }

  private static List<Long> judge(CountedFiles files) {
    RootJudgement j = files.judge(0, null, null);
    return List.of(j.files(), j.bytes());
  }
}
