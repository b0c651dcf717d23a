package dev.drainguard.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The DEB as dpkg-deb(1) reads it: contents, control fields, maintainer scripts, unpacked. */
class DebPackageIT {

  static final String DEPENDS =
      "default-jre-headless (>= 2:1.17) | openjdk-17-jre-headless | java17-runtime-headless,"
          + " passwd";

  @BeforeAll
  static void dpkgInstalled() {
    Pkg.requireTool("dpkg-deb");
    assertThat(Pkg.DEB).exists();
  }

  @Test
  void containsExactlyTheServiceFilesAndTheLauncherJarsOwnedByRoot() {
    Map<String, String> expected = new LinkedHashMap<>();
    for (String dir :
        List.of(
            "./etc/",
            "./etc/drainguard/",
            "./usr/",
            "./usr/bin/",
            "./usr/lib/",
            "./usr/lib/systemd/",
            "./usr/lib/systemd/system/",
            "./usr/libexec/",
            "./usr/libexec/drainguard/",
            "./usr/share/",
            "./usr/share/bash-completion/",
            "./usr/share/bash-completion/completions/",
            "./usr/share/drainguard/",
            "./usr/share/drainguard/lib/",
            "./usr/share/drainguard/probes/",
            "./usr/share/man/",
            "./usr/share/man/man1/",
            "./var/",
            "./var/cache/",
            "./var/cache/drainguard/")) {
      expected.put(dir, "drwxr-xr-x");
    }
    expected.put("./etc/drainguard/drainguard.conf", "-rw-r--r--");
    expected.put("./usr/bin/drainguard", "-rwxr-xr-x");
    expected.put("./usr/lib/systemd/system/drainguard.service", "-rw-r--r--");
    expected.put("./usr/libexec/drainguard/maintainer", "-rwxr-xr-x");
    expected.put("./usr/libexec/drainguard/wait-ready", "-rwxr-xr-x");
    expected.put("./usr/share/bash-completion/completions/drainguard", "-rw-r--r--");
    expected.put("./usr/share/man/man1/drainguard.1.gz", "-rw-r--r--");
    expected.put("./usr/share/drainguard/probes/rsyslog-queue-bytes", "-rwxr-xr-x");
    expected.put("./usr/share/drainguard/probes/spool-bytes", "-rwxr-xr-x");
    Pkg.launcherJars().forEach(j -> expected.put("./usr/share/drainguard/lib/" + j, "-rw-r--r--"));

    Map<String, String> actual = new LinkedHashMap<>();
    for (String line : Pkg.run("dpkg-deb", "-c", Pkg.DEB.toString()).ok().lines()) {
      String[] f = line.trim().split("\\s+");
      assertThat(f[1]).as("owner of %s", f[5]).isEqualTo("root/root");
      actual.put(f[5], f[0]);
    }
    assertThat(actual).containsExactlyInAnyOrderEntriesOf(expected);
  }

  @Test
  void controlFieldsSayArchitectureAllAndDependOnJava17OrNewer() {
    Map<String, String> fields = new LinkedHashMap<>();
    for (String line : Pkg.run("dpkg-deb", "-f", Pkg.DEB.toString()).ok().lines()) {
      if (!line.startsWith(" ")) {
        String[] kv = line.split(": ", 2);
        fields.put(kv[0], kv.length > 1 ? kv[1] : "");
      }
    }
    assertThat(fields)
        .containsEntry("Package", "drainguard")
        .containsEntry("Version", Pkg.VERSION + "-" + Pkg.RELEASE)
        .containsEntry("Architecture", "all")
        .containsEntry("Section", "admin")
        .containsEntry("Depends", DEPENDS)
        .containsKeys("Maintainer", "Installed-Size", "Description")
        .doesNotContainKeys("Pre-Depends", "Recommends", "Conflicts");
    // -I lists the control members: the maintainer scripts, the conffile list, the trigger
    assertThat(Pkg.run("dpkg-deb", "-I", Pkg.DEB.toString()).ok().out())
        .contains("postinst", "prerm", "postrm", "conffiles", "triggers")
        .doesNotContain("preinst");
  }

  @Test
  void maintainerScriptsConffilesAndTriggerAreTheSources(@TempDir Path control) {
    Pkg.run("dpkg-deb", "-e", Pkg.DEB.toString(), control.toString()).ok();

    assertThat(control.toFile().list())
        .containsExactlyInAnyOrder(
            "control", "md5sums", "conffiles", "postinst", "prerm", "postrm", "triggers");
    for (String script : List.of("postinst", "prerm", "postrm")) {
      assertThat(Pkg.read(control.resolve(script)))
          .isEqualTo(Pkg.read(Pkg.SOURCES.resolve("deb/" + script)));
      assertThat(Files.isExecutable(control.resolve(script))).isTrue();
    }
    assertThat(Pkg.read(control.resolve("conffiles")))
        .isEqualTo("/etc/drainguard/drainguard.conf\n");
    assertThat(Pkg.read(control.resolve("triggers"))).isEqualTo("interest-noawait /usr/lib/jvm\n");
  }

  @Test
  void unpackedTheLauncherPrintsTheVersionAndHelp(@TempDir Path root) {
    Pkg.extractDeb(root);
    Path launcher = root.resolve("usr/bin/drainguard");

    Pkg.Result version = Pkg.run(launcher.toString(), "--version").ok();
    assertThat(version.lines().get(0)).isEqualTo("drainguard " + Pkg.VERSION);
    assertThat(version.err()).isEmpty();
    Pkg.Result help = Pkg.run(launcher.toString(), "--help").ok();
    assertThat(help.out()).contains("Usage: drainguard", "run", "status", "hold", "release");
    assertThat(Pkg.run(launcher.toString(), "run", "--help").ok().out())
        .contains("--queue-root", "--control-socket");
  }

  @Test
  void theStagedLibraryIsExactlyTheLauncherClassPath() {
    // a jar shipped but not on the class path is dead weight; one on the path but not shipped
    // fails at run time: both lists come from the same dependency resolution
    assertThat(Pkg.STAGED.resolve("usr/share/drainguard/lib").toFile().list())
        .containsExactlyInAnyOrderElementsOf(Pkg.launcherJars());
    assertThat(Pkg.launcherJars().get(0)).isEqualTo("drainguard-agent-" + Pkg.VERSION + ".jar");
    assertThat(Pkg.launcherJars())
        .noneMatch(j -> j.matches("(junit|assertj|opentest4j|apiguardian|awaitility|jimfs).*"));
  }
}
