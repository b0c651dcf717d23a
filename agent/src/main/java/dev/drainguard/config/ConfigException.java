package dev.drainguard.config;

/** The configuration is invalid; the message is one line naming the setting and how to fix it. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }
}
