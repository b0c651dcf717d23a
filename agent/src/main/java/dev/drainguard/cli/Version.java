package dev.drainguard.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine;

/**
 * The agent's version, from the properties file the build writes. Plain, so that the agent reads it
 * without loading picocli; {@link Provider} gives it to picocli's {@code --version}.
 */
public final class Version {

  private Version() {}

  public static String get() {
    Properties p = new Properties();
    try (InputStream in = Version.class.getResourceAsStream("/dev/drainguard/version.properties")) {
      if (in == null) {
        return "unknown";
      }
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return p.getProperty("version", "unknown");
  }

  /** {@code drainguard --version}. */
  public static final class Provider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {
        "drainguard " + get(),
        "Java "
            + System.getProperty("java.version")
            + " ("
            + System.getProperty("java.vendor")
            + ")"
      };
    }
  }
}
