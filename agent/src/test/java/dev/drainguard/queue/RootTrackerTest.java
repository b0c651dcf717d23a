package dev.drainguard.queue;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * How a failed scan is reported. Runs everywhere, including as root, where a real unreadable
 * directory cannot be made (see {@code QueueWatcherRootErrorTest#unreadableRoot...}).
 */
class RootTrackerTest {

  private static final Path ROOT = Path.of("/q");

  static Stream<Arguments> failures() {
    return Stream.of(
        Arguments.of(new NoSuchFileException("/q"), "queue root /q does not exist"),
        Arguments.of(new NotDirectoryException("/q"), "queue root /q is not a directory"),
        Arguments.of(
            new AccessDeniedException("/q"), "queue root /q is not readable: access denied to /q"),
        Arguments.of(
            new AccessDeniedException("/q/out1"),
            "queue root /q is not readable: access denied to /q/out1"),
        Arguments.of(
            new IOException("Input/output error"),
            "queue root /q cannot be read: java.io.IOException: Input/output error"));
  }

  @ParameterizedTest
  @MethodSource("failures")
  void describe_namesWhatIsWrongAndThePath(IOException failure, String expected) {
    assertThat(RootTracker.describe(ROOT, failure)).isEqualTo(expected);
  }
}
