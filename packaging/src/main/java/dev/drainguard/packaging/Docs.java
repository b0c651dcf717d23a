package dev.drainguard.packaging;

import dev.drainguard.cli.DrainguardCommand;
import dev.drainguard.cli.Version;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import picocli.AutoComplete;
import picocli.CommandLine;

/**
 * Build step: writes the man page and the bash completion of the agent's command line into the
 * staged package tree given as the only argument ({@code usr/share/man/man1/drainguard.1.gz},
 * {@code usr/share/bash-completion/completions/drainguard}).
 */
public final class Docs {

  static final String COMMAND = "drainguard";

  private Docs() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      throw new IllegalArgumentException("usage: Docs STAGED-ROOT");
    }
    write(Path.of(args[0]));
  }

  static void write(Path root) throws IOException {
    CommandLine cl = DrainguardCommand.commandLine();
    Path man = root.resolve("usr/share/man/man1/" + COMMAND + ".1.gz");
    Files.createDirectories(man.getParent());
    // GZIPOutputStream writes no file name and a zero time: the same page gives the same bytes
    try (OutputStream gz = new GZIPOutputStream(Files.newOutputStream(man))) {
      gz.write(ManPage.render(cl, Version.get()).getBytes(StandardCharsets.UTF_8));
    }
    Path completion = root.resolve("usr/share/bash-completion/completions/" + COMMAND);
    Files.createDirectories(completion.getParent());
    Files.writeString(completion, AutoComplete.bash(COMMAND, cl));
  }
}
