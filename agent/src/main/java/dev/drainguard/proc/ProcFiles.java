package dev.drainguard.proc;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reading the kernel's pseudo-files ({@code /proc}, {@code /sys}). */
public final class ProcFiles {

  private ProcFiles() {}

  /**
   * Reads the whole file as a stream: {@code Files.readString} trusts the size the file reports,
   * which is wrong for some of them ({@code /proc/sys} files read as their first byte).
   */
  public static String read(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
