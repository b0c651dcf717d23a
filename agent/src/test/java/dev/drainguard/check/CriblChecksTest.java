package dev.drainguard.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.cribl.AutoRoots;
import dev.drainguard.cribl.CriblHome;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The {@code cribl} lines of check, on the fixtures of dev.drainguard.cribl. */
class CriblChecksTest {

  static CriblHome home(String fixture, Map<String, String> env) {
    try {
      return new CriblHome(
          Path.of(CriblChecksTest.class.getResource("/dev/drainguard/cribl/" + fixture).toURI()),
          env);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static List<Check> run(CriblChecks c) {
    List<Check> out = new ArrayList<>();
    c.run(out);
    return out;
  }

  static Check line(List<Check> checks, String owner) {
    return checks.stream()
        .filter(c -> c.detail().startsWith(owner + " "))
        .findFirst()
        .orElseThrow(() -> new AssertionError(owner + " not in " + checks));
  }

  @Test
  void noCriblWhereDrainguardLooks_saysNothing() {
    assertThat(run(new CriblChecks(Optional.empty(), Optional.empty(), List.of()))).isEmpty();
  }

  @Test
  void everyLine_isNamedCribl_andTheFirstSaysWhatWasRead() {
    CriblHome h = home("worker", Map.of());
    List<Check> checks =
        run(new CriblChecks(Optional.of(h), Optional.empty(), List.of(Path.of("/data"))));

    assertThat(checks).allSatisfy(c -> assertThat(c.name()).isEqualTo("cribl"));
    assertThat(checks.get(0).status()).isEqualTo(Check.Status.PASS);
    assertThat(checks.get(0).detail())
        .endsWith("8 local buffers, judged against the queue roots named explicitly");
    assertThat(checks).hasSize(9);
    // /data covers the custom paths; the default ones under CRIBL_HOME are outside it
    assertThat(line(checks, "output syslog_custom_pq (syslog)").status())
        .isEqualTo(Check.Status.PASS);
    assertThat(line(checks, "output splunk_lb_default_pq (splunk_lb)").status())
        .isEqualTo(Check.Status.FAIL);
    assertThat(line(checks, "output s3_archive (s3) staging").status())
        .isEqualTo(Check.Status.FAIL);
    // dead letters and a disabled source are listed, never a failure
    assertThat(line(checks, "output s3_archive (s3) dead letter").status())
        .isEqualTo(Check.Status.PASS);
    assertThat(line(checks, "input in_splunk_disabled (splunk)").detail())
        .endsWith("(disabled: not running): not waited for");
  }

  @Test
  void withAuto_theWorkerPasses() {
    CriblHome h = home("worker", Map.of());
    var auto = new AutoRoots(h, List.of(), List.of(), 0).resolve();
    List<Check> checks =
        run(new CriblChecks(Optional.empty(), Optional.of(auto), auto.rootPaths()));

    assertThat(checks).allSatisfy(c -> assertThat(c.status()).isEqualTo(Check.Status.PASS));
    assertThat(checks.get(0).detail()).endsWith("judged against the queue-root auto");
  }

  @Test
  void anUnknownPath_fails_andAFilesystemWithoutStaging_warns() {
    CriblHome h = home("odd", Map.of());
    var auto = new AutoRoots(h, List.of(), List.of(), 0).resolve();
    List<Check> checks = run(new CriblChecks(Optional.of(h), Optional.of(auto), auto.rootPaths()));

    Check unknown = line(checks, "output elastic_env_pq (elastic)");
    assertThat(unknown.status()).isEqualTo(Check.Status.FAIL);
    assertThat(unknown.detail())
        .contains("(path unknown)")
        .contains("uses $PQ_VOLUME, which drainguard's environment does not set")
        .endsWith("its directory is unknown, so no queue root covers it");
    assertThat(unknown.fix().orElseThrow()).contains("pqPath of output elastic_env_pq (");

    Check fs = line(checks, "output fs_nfs (filesystem)");
    assertThat(fs.status()).isEqualTo(Check.Status.WARN);
    assertThat(fs.fix().orElseThrow()).startsWith("set stagePath of output fs_nfs (unset");
  }

  @Test
  void aMalformedFile_failsTheFirstLine() {
    CriblHome h = home("malformed", Map.of());
    List<Check> checks = run(new CriblChecks(Optional.of(h), Optional.empty(), List.of()));

    assertThat(checks.get(0).status()).isEqualTo(Check.Status.FAIL);
    assertThat(checks.get(0).detail())
        .startsWith(h.home().resolve("local/cribl/outputs.yml") + ":9: not valid YAML");
    // what the readable file names is still judged
    assertThat(line(checks, "input in_tcp_custom_pq (tcp)").status()).isEqualTo(Check.Status.FAIL);
  }
}
