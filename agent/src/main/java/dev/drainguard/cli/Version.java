package dev.drainguard.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine;

/** The agent's version, from the properties file the build writes. */
public final class Version implements CommandLine.IVersionProvider {

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

  @Override
  public String[] getVersion() {
    return new String[] {
      "drainguard " + get(),
      "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"
    };
  }
}
