package dev.drainguard.cribl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.cribl.CriblBuffer.Exposure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Discovery on configuration fixtures written from Cribl Stream 4.14's documented schema. */
class CriblDiscoveryTest {

  private static CriblBuffer only(CriblInventory inv, String owner, BufferKind kind) {
    List<CriblBuffer> found =
        inv.buffers().stream()
            .filter(b -> b.owner().startsWith(owner + " ") && b.kind() == kind)
            .toList();
    assertThat(found).as("%s %s in %s", owner, kind, inv.buffers()).hasSize(1);
    return found.get(0);
  }

  private static List<CriblBuffer> of(CriblInventory inv, String owner) {
    return inv.buffers().stream().filter(b -> b.owner().startsWith(owner + " ")).toList();
  }

  @Test
  void theWorkerConfiguration_isReadWhole_defaultsFirst() {
    CriblHome home = Fixtures.home("worker");
    CriblInventory inv = CriblDiscovery.discover(home);

    assertThat(inv.complete()).isTrue();
    assertThat(inv.problem()).isEmpty();
    assertThat(inv.filesRead())
        .containsExactly(
            home.home().resolve("default/cribl/outputs.yml"),
            home.home().resolve("default/cribl/inputs.yml"),
            home.home().resolve("local/cribl/outputs.yml"),
            home.home().resolve("local/cribl/inputs.yml"));
  }

  @Test
  void aDestinationPqWithoutPqPath_isUnderCriblsDefault_perWorkerProcessAndOutput() {
    CriblHome home = Fixtures.home("worker");
    CriblBuffer b =
        only(
            CriblDiscovery.discover(home),
            "output splunk_lb_default_pq",
            BufferKind.DESTINATION_PQ);

    assertThat(b.owner()).isEqualTo("output splunk_lb_default_pq (splunk_lb)");
    assertThat(b.base()).contains(home.home().resolve("state/queues"));
    assertThat(b.below()).isEqualTo("<worker-process>/splunk_lb_default_pq");
    assertThat(b.path())
        .isEqualTo(home.home() + "/state/queues/<worker-process>/splunk_lb_default_pq");
    assertThat(b.watched()).contains(home.home().resolve("state/queues"));
    assertThat(b.exposure()).isEqualTo(Exposure.HELD);
    assertThat(b.setting())
        .isEqualTo(
            "pqPath of output splunk_lb_default_pq (unset: Cribl's default; splunk_lb_default_pq"
                + " at "
                + home.home().resolve("local/cribl/outputs.yml")
                + ":2)");
  }

  @Test
  void aCustomPqPathOnOneOutput_isThatPath_andNamesItsFileAndLine() {
    CriblHome home = Fixtures.home("worker");
    CriblBuffer b =
        only(CriblDiscovery.discover(home), "output syslog_custom_pq", BufferKind.DESTINATION_PQ);

    assertThat(b.base()).contains(Path.of("/data/cribl-pq"));
    assertThat(b.path()).isEqualTo("/data/cribl-pq/<worker-process>/syslog_custom_pq");
    assertThat(b.setting())
        .isEqualTo(
            "pqPath of output syslog_custom_pq ("
                + home.home().resolve("local/cribl/outputs.yml")
                + ":33)");
  }

  @Test
  void sourcePqs_areUnderPqPath_inputs_inputId() {
    CriblHome home = Fixtures.home("worker");
    CriblInventory inv = CriblDiscovery.discover(home);

    CriblBuffer defaulted = only(inv, "input in_syslog_pq", BufferKind.SOURCE_PQ);
    assertThat(defaulted.base()).contains(home.home().resolve("state/queues"));
    assertThat(defaulted.below()).isEqualTo("<worker-process>/inputs/in_syslog_pq");
    assertThat(defaulted.exposure()).isEqualTo(Exposure.HELD);

    CriblBuffer custom = only(inv, "input in_tcp_custom_pq", BufferKind.SOURCE_PQ);
    assertThat(custom.base()).contains(Path.of("/data/source-pq"));
    assertThat(custom.setting())
        .isEqualTo(
            "pq.path of input in_tcp_custom_pq ("
                + home.home().resolve("local/cribl/inputs.yml")
                + ":24)");
  }

  @Test
  void anS3Destination_stagesUnderItsStagingLocationPlusItsId_andListsItsDeadLetters() {
    CriblHome home = Fixtures.home("worker");
    CriblInventory inv = CriblDiscovery.discover(home);

    CriblBuffer staging = only(inv, "output s3_archive", BufferKind.STAGING);
    assertThat(staging.base()).contains(home.home().resolve("state/outputs/staging"));
    assertThat(staging.below()).isEqualTo("s3_archive");
    assertThat(staging.watched()).contains(home.home().resolve("state/outputs/staging/s3_archive"));
    assertThat(staging.exposure()).isEqualTo(Exposure.HELD);

    // dead letters are never retried: listed, but waiting would never drain them
    CriblBuffer dead = only(inv, "output s3_archive", BufferKind.DEAD_LETTER);
    assertThat(dead.base()).contains(home.home().resolve("state/outputs/dead-letter"));
    assertThat(dead.exposure()).isEqualTo(Exposure.LISTED);
  }

  @Test
  void destinationsWithoutPq_andSourcesWithoutPq_haveNoBuffer() {
    CriblInventory inv = CriblDiscovery.discover(Fixtures.home("worker"));

    assertThat(of(inv, "output webhook_no_pq")).isEmpty();
    assertThat(of(inv, "output kafka_drop")).isEmpty();
    assertThat(of(inv, "output devnull")).isEmpty();
    assertThat(of(inv, "input in_http_no_pq")).isEmpty();
    assertThat(of(inv, "input CriblMetrics")).isEmpty();
  }

  @Test
  void anIdInBothFiles_takesEachKeyFromTheLocalFileWhenSet_elseFromTheDefaultFile() {
    CriblHome home = Fixtures.home("worker");
    CriblBuffer b =
        only(CriblDiscovery.discover(home), "output cribl_tcp_relay", BufferKind.DESTINATION_PQ);

    // onBackpressure: queue comes from local, pqPath only from the shipped default file
    assertThat(b.base()).contains(Path.of("/data/relay-pq"));
    assertThat(b.setting()).contains(home.home().resolve("default/cribl/outputs.yml") + ":13");
  }

  @Test
  void aDisabledSource_isListed_butNotWaitedFor() {
    CriblBuffer b =
        only(
            CriblDiscovery.discover(Fixtures.home("worker")),
            "input in_splunk_disabled",
            BufferKind.SOURCE_PQ);

    assertThat(b.exposure()).isEqualTo(Exposure.LISTED);
    assertThat(b.note()).hasValueSatisfying(n -> assertThat(n).contains("disabled"));
  }

  @Test
  void aMalformedFile_isAnErrorNamingFileAndLine_andTheReadableFilesStillCount() {
    CriblHome home = Fixtures.home("malformed");
    CriblInventory inv = CriblDiscovery.discover(home);

    assertThat(inv.complete()).isFalse();
    assertThat(inv.error())
        .hasValueSatisfying(
            e ->
                assertThat(e)
                    .startsWith(home.home().resolve("local/cribl/outputs.yml") + ":9: ")
                    .contains("not valid YAML"));
    assertThat(inv.filesRead()).containsExactly(home.home().resolve("local/cribl/inputs.yml"));
    assertThat(only(inv, "input in_tcp_custom_pq", BufferKind.SOURCE_PQ).base())
        .contains(Path.of("/data/source-pq"));
  }

  @Test
  void noConfigurationAtAll_isNotComplete_andSaysWhereItLooked() {
    CriblHome home = Fixtures.home("nocfg");
    CriblInventory inv = CriblDiscovery.discover(home);

    assertThat(inv.complete()).isFalse();
    assertThat(inv.buffers()).isEmpty();
    assertThat(inv.problem())
        .hasValueSatisfying(
            p -> assertThat(p).contains(home.home().resolve("local/cribl").toString()));
  }

  @Test
  void aFilesystemDestinationWithoutStagingLocation_cannotBeJudged() {
    CriblBuffer b =
        only(CriblDiscovery.discover(Fixtures.home("odd")), "output fs_nfs", BufferKind.STAGING);

    assertThat(b.exposure()).isEqualTo(Exposure.UNJUDGED);
    assertThat(b.base()).isEmpty();
    assertThat(b.setting()).startsWith("stagePath of output fs_nfs (unset");
  }

  @Test
  void aPathWithAVariableDrainguardLacks_isUnresolved_butStillHeld() {
    CriblBuffer b =
        only(
            CriblDiscovery.discover(Fixtures.home("odd")),
            "output elastic_env_pq",
            BufferKind.DESTINATION_PQ);

    // a queue that cannot be located is a queue no root covers, never one that is absent
    assertThat(b.exposure()).isEqualTo(Exposure.HELD);
    assertThat(b.base()).isEmpty();
    assertThat(b.note()).hasValueSatisfying(n -> assertThat(n).contains("$PQ_VOLUME"));
  }

  @Test
  void aPathWithAVariable_isExpandedFromTheEnvironment() {
    CriblBuffer b =
        only(
            CriblDiscovery.discover(Fixtures.home("odd", Map.of("PQ_VOLUME", "/vol/pq"))),
            "output elastic_env_pq",
            BufferKind.DESTINATION_PQ);

    assertThat(b.base()).contains(Path.of("/vol/pq/queues"));
  }

  @Test
  void stagingWithoutTheOutputId_isTheStagingLocationItself() {
    CriblBuffer b =
        only(
            CriblDiscovery.discover(Fixtures.home("odd")),
            "output gcs_shared_stage",
            BufferKind.STAGING);

    assertThat(b.below()).isEmpty();
    assertThat(b.watched()).contains(Path.of("/var/cribl-staging"));
  }

  @Test
  void azureDataExplorerInStreamingMode_doesNotStage() {
    assertThat(of(CriblDiscovery.discover(Fixtures.home("odd")), "output adx_streaming")).isEmpty();
  }

  @Test
  void anEntryThatIsNotAMapping_isMalformed(@TempDir Path home) throws IOException {
    Files.createDirectories(home.resolve("local/cribl"));
    Files.writeString(
        home.resolve("local/cribl/outputs.yml"),
        "outputs:\n  ok:\n    type: devnull\n  broken: just-a-string\n");

    CriblInventory inv = CriblDiscovery.discover(new CriblHome(home, Map.of()));

    assertThat(inv.error())
        .contains(
            home.resolve("local/cribl/outputs.yml")
                + ":4: outputs.broken should be a mapping of keys to values");
  }

  @Test
  void anIdDefinedTwice_isMalformed(@TempDir Path home) throws IOException {
    Files.createDirectories(home.resolve("local/cribl"));
    Files.writeString(
        home.resolve("local/cribl/inputs.yml"),
        "inputs:\n  a:\n    type: tcp\n  a:\n    type: tcp\n    pqEnabled: true\n");

    CriblInventory inv = CriblDiscovery.discover(new CriblHome(home, Map.of()));

    assertThat(inv.error())
        .contains(home.resolve("local/cribl/inputs.yml") + ":4: 'a' is defined twice");
    assertThat(inv.buffers()).isEmpty();
  }

  @Test
  void anEmptyFile_isReadAndHoldsNothing(@TempDir Path home) throws IOException {
    Files.createDirectories(home.resolve("local/cribl"));
    Files.writeString(home.resolve("local/cribl/outputs.yml"), "");

    CriblInventory inv = CriblDiscovery.discover(new CriblHome(home, Map.of()));

    assertThat(inv.complete()).isTrue();
    assertThat(inv.buffers()).isEmpty();
    assertThat(inv.error()).isEqualTo(Optional.empty());
  }
}
