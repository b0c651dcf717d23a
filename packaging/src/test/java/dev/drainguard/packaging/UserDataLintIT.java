package dev.drainguard.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * The scripts of userdata/ through shellcheck, the cloud-config through cloud-init's own schema,
 * and the copies of install.sh that the cloud-config and the template carry.
 */
class UserDataLintIT {

  static final Path USERDATA = Path.of("../userdata");
  static final Path CLOUD_CONFIG = USERDATA.resolve("cloud-config.yaml");

  static List<Path> shellScripts() {
    try (Stream<Path> files = Files.list(USERDATA)) {
      return files.filter(f -> f.toString().endsWith(".sh")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void everyScriptPassesShellcheckAsPosixSh() {
    Pkg.requireTool("shellcheck");
    List<Path> scripts = shellScripts();
    assertThat(scripts)
        .extracting(p -> p.getFileName().toString())
        .contains("install.sh", "embed.sh");
    List<String> cmd = new ArrayList<>(List.of("shellcheck", "--shell=sh", "--severity=style"));
    scripts.forEach(s -> cmd.add(s.toString()));

    Pkg.Result r = Pkg.run(cmd.toArray(String[]::new));

    assertThat(r.out() + r.err()).isEmpty();
    assertThat(r.exit()).isZero();
  }

  @Test
  void theTemplatesUserDataPassesShellcheckAsBash(@TempDir Path dir) {
    Pkg.requireTool("shellcheck");
    // as an instance gets it: the template's ${...} replaced by values
    Path userData = Pkg.write(dir.resolve("user-data"), UserDataTemplateIT.renderedUserData(false));

    Pkg.Result r = Pkg.run("shellcheck", "--shell=bash", "--severity=style", userData.toString());

    assertThat(r.out() + r.err()).isEmpty();
    assertThat(r.exit()).isZero();
  }

  @Test
  void theCloudConfigIsValidForCloudInit() {
    Pkg.requireTool("cloud-init");

    Pkg.Result r = Pkg.run("cloud-init", "schema", "--config-file", CLOUD_CONFIG.toString());

    assertThat(r.exit()).as("cloud-init schema: %s%s", r.out(), r.err()).isZero();
    assertThat(r.out()).contains("Valid cloud-config");
    // cloud-init's schema lets unknown top-level keys through: a misspelt module would do nothing
    assertThat(cloudConfig().keySet()).containsExactlyInAnyOrder("write_files", "runcmd");
  }

  @Test
  void theCloudConfigWritesInstallShAndItsVariablesAndRunsIt() {
    assertThat(Pkg.read(CLOUD_CONFIG)).startsWith("#cloud-config\n");
    List<Object> files = UserDataTemplateIT.list(cloudConfig().get("write_files"));
    Map<String, Object> env = UserDataTemplateIT.map(files.get(0));
    Map<String, Object> script = UserDataTemplateIT.map(files.get(1));

    assertThat(env.get("path")).isEqualTo("/etc/drainguard/install.env");
    assertThat((String) env.get("content"))
        .startsWith("DRAINGUARD_PACKAGE_URL=https://")
        .contains(
            "# required: sha256sum of that file",
            "DRAINGUARD_PACKAGE_SHA256=",
            "DRAINGUARD_QUEUE_ROOT=/opt/cribl/state/queues")
        .doesNotContain("DRAINGUARD_SKIP_", "DRAINGUARD_ROOT");
    assertThat(script.get("path")).isEqualTo("/usr/local/sbin/drainguard-install");
    assertThat(script.get("permissions")).isEqualTo("0755");
    assertThat(script.get("content"))
        .as("the copy of install.sh in cloud-config.yaml; run sh userdata/embed.sh")
        .isEqualTo(Pkg.uncommented(Pkg.read(USERDATA.resolve("install.sh"))));
    assertThat(UserDataTemplateIT.list(cloudConfig().get("runcmd")))
        .containsExactly(
            List.of(
                "sh",
                "-c",
                "set -a && . /etc/drainguard/install.env && set +a"
                    + " && exec /usr/local/sbin/drainguard-install"));
  }

  @Test
  void embedShReproducesBothFilesExactly(@TempDir Path dir) throws IOException {
    // the copies are generated: running the generator on the committed files changes nothing
    for (String f : List.of("install.sh", "embed.sh", "cloud-config.yaml", "cloudformation.yaml")) {
      Files.copy(USERDATA.resolve(f), dir.resolve(f));
    }

    Pkg.run("sh", dir.resolve("embed.sh").toString()).ok();

    for (String f : List.of("cloud-config.yaml", "cloudformation.yaml")) {
      assertThat(dir.resolve(f)).as(f).hasSameTextualContentAs(USERDATA.resolve(f));
    }
  }

  static Map<String, Object> cloudConfig() {
    return UserDataTemplateIT.map(new Yaml().load(Pkg.read(CLOUD_CONFIG)));
  }
}
