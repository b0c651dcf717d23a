package dev.drainguard.packaging;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Renders drainguard(1) in troff (man(7) macros) from the picocli model, so the man page always
 * says what the shipped command line accepts. picocli-codegen's ManPageGenerator writes AsciiDoc,
 * which would need asciidoctor at build time to become a man page; the page is small enough to
 * write directly.
 */
final class ManPage {

  private final StringBuilder out = new StringBuilder();

  private ManPage() {}

  /** The whole page for {@code root} (the {@code drainguard} command) and its subcommands. */
  static String render(CommandLine root, String version) {
    return new ManPage().page(root.getCommandSpec(), version);
  }

  private String page(CommandSpec root, String version) {
    String name = root.name();
    line(
        ".TH " + name.toUpperCase() + " 1 \"\" \"" + name + " " + version + "\" \"User Commands\"");
    // no hyphenation, ragged right: option names and paths stay whole
    line(".nh");
    line(".ad l");
    line(".SH NAME");
    line(name + " \\- " + esc(Text.NAME_LINE));
    line(".SH SYNOPSIS");
    line(".B " + name);
    line(esc("[-hV] COMMAND [OPTIONS]"));
    for (String sub : visibleSubcommands(root).keySet()) {
      line(".br");
      line(".B " + name + " " + sub);
      line(esc("[OPTIONS]"));
    }
    line(".SH DESCRIPTION");
    paragraph(root.usageMessage().description());
    line(".SH OPTIONS");
    options(root);
    line(".SH COMMANDS");
    for (Map.Entry<String, CommandLine> e : visibleSubcommands(root).entrySet()) {
      command(name, e.getKey(), e.getValue().getCommandSpec());
    }
    line(".SH EXIT STATUS");
    exitCodes(root.usageMessage().exitCodeList());
    line(".PP");
    line(esc(Text.EXIT_STATUS_NOTE));
    for (String[] section : Text.SECTIONS) {
      line(".SH " + section[0]);
      for (int i = 1; i < section.length; i++) {
        if (section[i].startsWith("TP ")) {
          line(".TP");
          line(".B " + esc(section[i].substring(3)));
        } else {
          line(esc(section[i]));
        }
      }
    }
    return out.toString();
  }

  private void command(String parent, String sub, CommandSpec spec) {
    line(".SS \"" + parent + " " + sub + "\"");
    paragraph(spec.usageMessage().description());
    options(spec);
    Map<String, String> codes = spec.usageMessage().exitCodeList();
    if (!codes.isEmpty()) {
      line(".PP");
      line("Exit codes of \\fB" + parent + " " + sub + "\\fR:");
      exitCodes(codes);
    }
  }

  private void options(CommandSpec spec) {
    for (OptionSpec o : spec.options()) {
      if (o.hidden()) {
        continue;
      }
      line(".TP");
      StringBuilder names = new StringBuilder();
      for (String n : o.names()) {
        if (names.length() > 0) {
          names.append(", ");
        }
        names.append("\\fB").append(esc(n)).append("\\fR");
      }
      String label = esc(o.paramLabel().replaceAll("[<>]", ""));
      if (o.arity().min() == 0 && o.arity().max() > 0) {
        // a flag that may stand alone (true) or take a value: --loopback-only[=BOOL]
        names.append("[=\\fI").append(label).append("\\fR]");
      } else if (!o.typeInfo().isBoolean() && !o.paramLabel().isEmpty()) {
        names.append("=\\fI").append(label).append("\\fR");
      }
      line(names.toString());
      line(esc(String.join(" ", plain(o.description()))));
    }
  }

  private void exitCodes(Map<String, String> codes) {
    for (Map.Entry<String, String> c : codes.entrySet()) {
      line(".TP");
      line(".B " + esc(c.getKey().strip()));
      line(esc(c.getValue()));
    }
  }

  private void paragraph(String[] lines) {
    line(".PP");
    line(esc(String.join(" ", plain(lines))));
  }

  private static Map<String, CommandLine> visibleSubcommands(CommandSpec spec) {
    Map<String, CommandLine> out = new LinkedHashMap<>();
    for (Map.Entry<String, CommandLine> e : spec.subcommands().entrySet()) {
      CommandSpec sub = e.getValue().getCommandSpec();
      // aliases appear once, under the command's own name
      if (!sub.usageMessage().hidden() && e.getKey().equals(sub.name())) {
        out.put(e.getKey(), e.getValue());
      }
    }
    return out;
  }

  /** Description lines without picocli's @|style markup|@ and format specifiers. */
  private static List<String> plain(String[] lines) {
    return Arrays.stream(lines)
        .map(l -> CommandLine.Help.Ansi.OFF.string(l).replace("%n", " ").strip())
        .filter(l -> !l.isEmpty())
        .toList();
  }

  /** Escapes text for troff: backslashes, hyphens, and a leading dot or quote. */
  static String esc(String s) {
    String t = s.replace("\\", "\\e").replace("-", "\\-");
    if (t.startsWith(".") || t.startsWith("'")) {
      t = "\\&" + t;
    }
    return t;
  }

  private void line(String s) {
    out.append(s).append('\n');
  }

  /** The parts of the page that are about the package rather than the command line. */
  static final class Text {

    static final String NAME_LINE =
        "hold EC2 Auto Scaling termination while local persistent queues drain";

    static final String EXIT_STATUS_NOTE =
        "The launcher /usr/bin/drainguard exits 69 when it finds no Java 17 or newer runtime, or"
            + " when the agent's jars are missing.";

    static final String[][] SECTIONS = {
      {
        "ENVIRONMENT",
        "TP DRAINGUARD_<OPTION>",
        "Every option of drainguard run, e.g. DRAINGUARD_QUEUE_ROOT; flags win over the"
            + " environment, which wins over the config file.",
        "TP JAVA_HOME",
        "The Java runtime to use when it is version 17 or newer; else java on PATH, else the"
            + " first runtime of version 17 or newer under /usr/lib/jvm, in name order.",
        "TP DRAINGUARD_JAVA_OPTS",
        "Extra JVM options, added after the launcher's own (heap size, garbage collector).",
        "TP DRAINGUARD_CDS",
        "off: start without the class-data archive; dump: (as root) write the archive for the"
            + " Java runtime the launcher picks, as the package does when it is installed: a CDS"
            + " archive, or an AOT cache on Java 25 and later, from a training run of status,"
            + " hold and release against a server of its own.",
      },
      {
        "FILES",
        "TP /etc/drainguard/drainguard.conf",
        "The configuration: one key = value per line, keys as the options of drainguard run"
            + " without their dashes.",
        "TP /run/drainguard/control.sock",
        "The agent's control socket (mode 0660, group drainguard): status, hold and release.",
        "TP /usr/lib/systemd/system/drainguard.service",
        "The systemd unit; change it with drop-ins (systemctl edit drainguard).",
        "TP /usr/share/drainguard/lib",
        "The agent's jars.",
        "TP /var/cache/drainguard",
        "Class-data archives (CDS, or AOT caches on Java 25 and later), one per Java runtime,"
            + " written by root when the package is installed or upgraded.",
      },
      {
        "SEE ALSO",
        "systemctl(1), journalctl(1), systemd.exec(5). The drainguard README and"
            + " packaging/README.md in its source tree.",
      },
    };

    private Text() {}
  }
}
