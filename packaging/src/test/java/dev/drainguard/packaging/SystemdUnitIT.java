package dev.drainguard.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged unit, checked by systemd's own analyzer. */
class SystemdUnitIT {

  /** "OK" in systemd-analyze's scale; the unit scores lower, and must stay at most this. */
  static final double MAX_EXPOSURE = 2.5;

  static final String UNIT = "usr/lib/systemd/system/drainguard.service";

  @TempDir static Path root;

  @BeforeAll
  static void unpack() {
    Pkg.requireTool("systemd-analyze");
    Pkg.extractDeb(root);
  }

  @Test
  void verifyPassesWithoutAWarning(@TempDir Path dir) {
    // verify checks that ExecStart= binaries exist and that man:drainguard(1) resolves: point
    // it at the unpacked package (a copy of the unit with its paths under the scratch root)
    String unit =
        Pkg.read(root.resolve(UNIT))
            .replace("=/usr/bin/drainguard", "=" + root + "/usr/bin/drainguard")
            .replace("=/usr/libexec/drainguard/", "=" + root + "/usr/libexec/drainguard/");
    Path copy = Pkg.write(dir.resolve("drainguard.service"), unit);
    Map<String, String> env = Pkg.baseEnv();
    env.put("MANPATH", root.resolve("usr/share/man").toString());

    Pkg.Result r = Pkg.run(env, "systemd-analyze", "verify", copy.toString());

    // an unknown or misspelt setting is only a warning, with exit code 0
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out() + r.err()).isEmpty();
  }

  @Test
  void securityExposureIsAtMostOk() {
    Pkg.Result r =
        Pkg.run("systemd-analyze", "security", "--offline=true", root.resolve(UNIT).toString());

    Matcher m =
        Pattern.compile("Overall exposure level for drainguard.service: (\\d+\\.\\d+) (\\S+)")
            .matcher(r.out());
    assertThat(m.find()).as(r.out() + r.err()).isTrue();
    System.out.println("systemd-analyze security: " + m.group(1) + " " + m.group(2));
    assertThat(Double.parseDouble(m.group(1))).isLessThanOrEqualTo(MAX_EXPOSURE);
  }

  @Test
  void runsAsDrainguardWithOnlyItsOwnDirectoriesWritableAndTheAgentsAddressFamilies() {
    Map<String, List<String>> s = settings(Pkg.read(root.resolve(UNIT)));

    assertThat(s.get("User")).containsExactly("drainguard");
    assertThat(s.get("Group")).containsExactly("drainguard");
    assertThat(s.get("ProtectSystem")).containsExactly("strict");
    assertThat(s.get("ReadWritePaths")).containsExactly("/run/drainguard");
    assertThat(s.get("RuntimeDirectory")).containsExactly("drainguard");
    // issue 20: 0770 let a group member delete the socket or put up one of their own
    assertThat(s.get("RuntimeDirectoryMode")).containsExactly("0750");
    assertThat(s.get("StateDirectory")).containsExactly("drainguard");
    assertThat(s.get("StateDirectoryMode")).containsExactly("0700");
    assertThat(s.get("RestrictAddressFamilies")).containsExactly("AF_UNIX AF_INET AF_INET6");
    assertThat(s.get("CapabilityBoundingSet")).containsExactly("CAP_DAC_READ_SEARCH");
    assertThat(s.get("AmbientCapabilities")).containsExactly("CAP_DAC_READ_SEARCH");
    assertThat(s.get("NoNewPrivileges")).containsExactly("yes");
    assertThat(s.get("Restart")).containsExactly("on-failure");
    assertThat(s.get("After")).containsExactly("network-online.target");
    assertThat(s.get("Wants")).containsExactly("network-online.target");
    // the JIT writes the code it runs; an IP allow list would cut the agent off the public API
    assertThat(s).doesNotContainKeys("MemoryDenyWriteExecute", "IPAddressDeny");
  }

  @Test
  void itsCommandsAreExecutablesOfThePackage() {
    Map<String, List<String>> s = settings(Pkg.read(root.resolve(UNIT)));
    List<String> commands = new ArrayList<>(s.get("ExecStart"));
    commands.addAll(s.get("ExecStartPost"));

    assertThat(commands)
        .containsExactly("/usr/bin/drainguard run", "/usr/libexec/drainguard/wait-ready");
    for (String c : commands) {
      assertThat(Files.isExecutable(root.resolve(c.split(" ")[0].substring(1)))).as(c).isTrue();
    }
  }

  /** key → values, in order, ignoring comments and section headers. */
  static Map<String, List<String>> settings(String unit) {
    Map<String, List<String>> s = new LinkedHashMap<>();
    for (String line : unit.split("\n")) {
      if (line.isBlank() || line.startsWith("#") || line.startsWith("[")) {
        continue;
      }
      String[] kv = line.split("=", 2);
      s.computeIfAbsent(kv[0], k -> new ArrayList<>()).add(kv[1]);
    }
    return s;
  }
}
