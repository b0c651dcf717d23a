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

/** The RPM as rpm(8) reads it: files, metadata, dependencies, scriptlets, and an install. */
class RpmPackageIT {

  /** Every file and directory the package owns, except the jars (listed by the launcher). */
  static final List<String> FILES =
      List.of(
          "/etc/drainguard",
          "/etc/drainguard/drainguard.conf",
          "/usr/bin/drainguard",
          "/usr/lib/systemd/system/drainguard.service",
          "/usr/libexec/drainguard",
          "/usr/libexec/drainguard/maintainer",
          "/usr/libexec/drainguard/wait-ready",
          "/usr/share/bash-completion/completions/drainguard",
          "/usr/share/drainguard",
          "/usr/share/drainguard/lib",
          "/usr/share/drainguard/probes",
          "/usr/share/drainguard/probes/rsyslog-queue-bytes",
          "/usr/share/drainguard/probes/spool-bytes",
          "/usr/share/man/man1/drainguard.1.gz",
          "/var/cache/drainguard");

  @BeforeAll
  static void rpmInstalled() {
    Pkg.requireTool("rpm");
    assertThat(Pkg.RPM).exists();
  }

  static List<String> query(String... args) {
    List<String> cmd = new ArrayList<>(List.of("rpm", "-qp"));
    cmd.addAll(List.of(args));
    cmd.add(Pkg.RPM.toString());
    return Pkg.run(cmd.toArray(String[]::new)).ok().lines();
  }

  @Test
  void listsExactlyTheLauncherJarsAndTheServiceFiles() {
    List<String> expected = new ArrayList<>(FILES);
    Pkg.launcherJars().forEach(j -> expected.add("/usr/share/drainguard/lib/" + j));

    assertThat(query("-l")).containsExactlyInAnyOrderElementsOf(expected);
  }

  @Test
  void everyFileIsRootsWithItsModeAndOnlyTheConfigIsAConfigFileNeverReplaced() {
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("/etc/drainguard", "drwxr-xr-x");
    expected.put("/etc/drainguard/drainguard.conf", "-rw-r--r-- cn");
    expected.put("/usr/bin/drainguard", "-rwxr-xr-x");
    expected.put("/usr/lib/systemd/system/drainguard.service", "-rw-r--r--");
    expected.put("/usr/libexec/drainguard", "drwxr-xr-x");
    expected.put("/usr/libexec/drainguard/maintainer", "-rwxr-xr-x");
    expected.put("/usr/libexec/drainguard/wait-ready", "-rwxr-xr-x");
    expected.put("/usr/share/bash-completion/completions/drainguard", "-rw-r--r--");
    expected.put("/usr/share/drainguard", "drwxr-xr-x");
    expected.put("/usr/share/drainguard/lib", "drwxr-xr-x");
    expected.put("/usr/share/drainguard/probes", "drwxr-xr-x");
    expected.put("/usr/share/drainguard/probes/rsyslog-queue-bytes", "-rwxr-xr-x");
    expected.put("/usr/share/drainguard/probes/spool-bytes", "-rwxr-xr-x");
    expected.put("/usr/share/man/man1/drainguard.1.gz", "-rw-r--r-- d");
    expected.put("/var/cache/drainguard", "drwxr-xr-x");
    Pkg.launcherJars().forEach(j -> expected.put("/usr/share/drainguard/lib/" + j, "-rw-r--r--"));

    Map<String, String> actual = new LinkedHashMap<>();
    for (String line :
        query(
            "--qf",
            "[%{FILEMODES:perms} %{FILEFLAGS:fflags} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES}\\n]")) {
      String[] f = line.split(" ", -1);
      assertThat(f[2]).as("owner of %s", f[3]).isEqualTo("root:root");
      actual.put(f[3], (f[0] + " " + f[1]).strip());
    }
    assertThat(actual).containsExactlyInAnyOrderEntriesOf(expected);
  }

  @Test
  void isNoarchNamedDrainguardAtTheProjectVersion() {
    assertThat(query("--qf", "%{NAME} %{VERSION} %{RELEASE} %{ARCH}\\n"))
        .containsExactly("drainguard " + Pkg.VERSION + " " + Pkg.RELEASE + " noarch");
  }

  @Test
  void requiresJava17OrNewerAsCorrettoAndOpenJdkProvideItAndShadowUtils() {
    // Corretto's and Fedora/RHEL OpenJDK's headless packages provide java-headless = 1:<version>:
    // with the epoch, 1:11.0.x does not satisfy >= 1:17 (without it, any epoch-1 Java would)
    assertThat(query("-R"))
        .containsExactlyInAnyOrder(
            "/bin/sh",
            "/bin/sh",
            "/bin/sh",
            "java-headless >= 1:17",
            "shadow-utils",
            "rpmlib(CompressedFileNames) <= 3.0.4-1",
            "rpmlib(FileDigests) <= 4.6.0-1",
            "rpmlib(PayloadFilesHavePrefix) <= 4.0-1");
  }

  @Test
  void hasExactlyThePostPreunAndPostunScriptletsFromTheSources() {
    String scripts = String.join("\n", query("--scripts")) + "\n";
    Matcher m =
        Pattern.compile(
                "(?m)^(\\w+) scriptlet \\(using (\\S+)\\):\\n((?:(?!^\\w+ scriptlet \\().*\\n)*)")
            .matcher(scripts);
    Map<String, String> found = new LinkedHashMap<>();
    while (m.find()) {
      assertThat(m.group(2)).isEqualTo("/bin/sh");
      found.put(m.group(1), m.group(3).strip());
    }
    assertThat(found)
        .containsOnlyKeys("postinstall", "preuninstall", "postuninstall")
        .containsEntry("postinstall", Pkg.read(Pkg.SOURCES.resolve("rpm/post.sh")).strip())
        .containsEntry("preuninstall", Pkg.read(Pkg.SOURCES.resolve("rpm/preun.sh")).strip())
        .containsEntry("postuninstall", Pkg.read(Pkg.SOURCES.resolve("rpm/postun.sh")).strip());
  }

  @Test
  void installsIntoAScratchRootWhereTheLauncherPrintsTheVersionAndHelp(@TempDir Path root) {
    // --noscripts: the scriptlets need the host's systemd and user database; MaintainerIT
    // and HoldingAgentIT test what they do
    Pkg.run("rpm", "--root", root.toString(), "--nodeps", "--noscripts", "-i", Pkg.RPM.toString())
        .ok();

    // every file as packaged (digest, mode, owner); the Java and shell dependencies are not here
    assertThat(Pkg.run("rpm", "--root", root.toString(), "-V", "--nodeps", "drainguard").ok().out())
        .isEmpty();
    assertThat(Pkg.run("rpm", "--root", root.toString(), "-qc", "drainguard").ok().lines())
        .containsExactly("/etc/drainguard/drainguard.conf");
    Path launcher = root.resolve("usr/bin/drainguard");
    assertThat(Files.isExecutable(launcher)).isTrue();

    Pkg.Result version = Pkg.run(launcher.toString(), "--version").ok();
    assertThat(version.lines().get(0)).isEqualTo("drainguard " + Pkg.VERSION);
    assertThat(version.err()).isEmpty();
    Pkg.Result help = Pkg.run(launcher.toString(), "--help").ok();
    assertThat(help.out()).contains("Usage: drainguard", "run", "status", "hold", "release");
  }
}
