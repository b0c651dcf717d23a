package dev.drainguard.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.drainguard.imds.HttpInstanceMetadata;
import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.net.RetryPolicy;
import dev.drainguard.net.Sleeper;
import dev.drainguard.sim.Simulator;
import dev.drainguard.testing.MutableClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The credentials chain end to end: system properties and environment injected, real profile files
 * in a temporary home, and the instance profile from the simulator's IMDS over loopback HTTP.
 */
class CredentialsChainTest {

  private static final String ROLE = "drainguard-worker";
  private static final RetryPolicy RETRY =
      new RetryPolicy(2, Duration.ofMillis(10), Duration.ofMillis(10));

  @TempDir Path home;
  private final MutableClock clock = MutableClock.atNewYear();
  private final Map<String, String> env = new HashMap<>();
  private final Map<String, String> props = new HashMap<>();
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private final List<Logger> loggers =
      List.of(
          (Logger) org.slf4j.LoggerFactory.getLogger(CredentialsChain.class),
          (Logger) org.slf4j.LoggerFactory.getLogger(InstanceProfileCredentials.class));
  private Simulator sim;
  private HttpInstanceMetadata imds;

  @BeforeEach
  void start() {
    sim = Simulator.start(clock);
    sim.addInstance(null, "i-0123456789abcdef0", "eu-west-1", false);
    imds =
        new HttpInstanceMetadata(sim.imdsEndpoint(), LoopbackGuard.of(true), RETRY, Sleeper.NONE);
    props.put("user.home", home.toString());
    logged.start();
    loggers.forEach(l -> l.addAppender(logged));
  }

  @AfterEach
  void stop() {
    loggers.forEach(l -> l.detachAppender(logged));
    sim.close();
  }

  private CredentialsChain chain() {
    return new CredentialsChain(env, props::get, imds, clock);
  }

  private Instant inOneHour() {
    return clock.instant().plus(Duration.ofHours(1));
  }

  private void allSources() throws IOException {
    props.put("aws.accessKeyId", "AKIDPROPS");
    props.put("aws.secretAccessKey", "props-secret");
    env.put("AWS_ACCESS_KEY_ID", "AKIDENV");
    env.put("AWS_SECRET_ACCESS_KEY", "env-secret");
    write(
        ".aws/credentials",
        "[default]",
        "aws_access_key_id = AKIDFILE",
        "aws_secret_access_key = f");
    sim.setInstanceProfile(ROLE, "ASIAROLE", "role-secret", "role-token", inOneHour());
  }

  private void write(String relative, String... lines) throws IOException {
    Path f = home.resolve(relative);
    Files.createDirectories(f.getParent());
    Files.writeString(f, String.join("\n", lines) + "\n");
  }

  private List<String> warnings() {
    return logged.list.stream()
        .filter(e -> e.getLevel() == Level.WARN)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  // ---- order ----

  @Test
  void resolve_everySourceSet_systemPropertiesFirst() throws IOException {
    allSources();

    AwsCredentials c = chain().resolve();

    assertThat(c.accessKeyId()).isEqualTo("AKIDPROPS");
    assertThat(c.secretAccessKey()).isEqualTo("props-secret");
    assertThat(c.sessionToken()).isEmpty();
    assertThat(c.source()).isEqualTo("system properties aws.accessKeyId");
  }

  @Test
  void resolve_noSystemProperties_environmentBeforeProfileAndInstanceProfile() throws IOException {
    allSources();
    props.remove("aws.accessKeyId");
    props.remove("aws.secretAccessKey");

    AwsCredentials c = chain().resolve();

    assertThat(c.accessKeyId()).isEqualTo("AKIDENV");
    assertThat(c.source()).isEqualTo("env AWS_ACCESS_KEY_ID");
  }

  @Test
  void resolve_onlyFileAndInstanceProfile_profileBeforeInstanceProfile() throws IOException {
    allSources();
    props.remove("aws.accessKeyId");
    props.remove("aws.secretAccessKey");
    env.clear();

    AwsCredentials c = chain().resolve();

    assertThat(c.accessKeyId()).isEqualTo("AKIDFILE");
    assertThat(c.source()).isEqualTo("profile default in " + home.resolve(".aws/credentials"));
  }

  @Test
  void resolve_onlyInstanceProfile_roleCredentialsFromImds() {
    Instant expiry = inOneHour();
    sim.setInstanceProfile(ROLE, "ASIAROLE", "role/secret+x", "role-token", expiry);

    AwsCredentials c = chain().resolve();

    assertThat(c.accessKeyId()).isEqualTo("ASIAROLE");
    assertThat(c.secretAccessKey()).isEqualTo("role/secret+x");
    assertThat(c.sessionToken()).contains("role-token");
    assertThat(c.expiration()).contains(expiry);
    assertThat(c.source())
        .isEqualTo("instance profile role " + ROLE + " from IMDS " + sim.imdsEndpoint());
  }

  // A half-set pair is not credentials: the SDK went on down its chain, and so do we.
  @Test
  void resolve_accessKeyWithoutSecret_nextSourceAndSaidWhenNothingFound() {
    props.put("aws.accessKeyId", "AKIDPROPS");
    env.put("AWS_SECRET_ACCESS_KEY", "env-secret");

    assertThatThrownBy(() -> chain().resolve())
        .isInstanceOf(CredentialsException.class)
        .hasMessageContaining(
            "system properties aws.accessKeyId is set without aws.secretAccessKey")
        .hasMessageContaining("env AWS_SECRET_ACCESS_KEY is set without AWS_ACCESS_KEY_ID");
  }

  // ---- session tokens ----

  @Test
  void resolve_systemPropertiesWithSessionToken_tokenKept() {
    props.put("aws.accessKeyId", "ASIAPROPS");
    props.put("aws.secretAccessKey", "s");
    props.put("aws.sessionToken", "props-token");

    assertThat(chain().resolve().sessionToken()).contains("props-token");
  }

  @Test
  void resolve_environmentWithSessionToken_tokenKept() {
    env.put("AWS_ACCESS_KEY_ID", "ASIAENV");
    env.put("AWS_SECRET_ACCESS_KEY", "s");
    env.put("AWS_SESSION_TOKEN", "env-token");

    AwsCredentials c = chain().resolve();

    assertThat(c.sessionToken()).contains("env-token");
    assertThat(c.expiration()).isEmpty();
  }

  @Test
  void resolve_profileWithSessionToken_tokenKept() throws IOException {
    write(
        ".aws/credentials",
        "[default]",
        "aws_access_key_id = ASIAFILE",
        "aws_secret_access_key = s",
        "aws_session_token = file-token");

    assertThat(chain().resolve().sessionToken()).contains("file-token");
  }

  // ---- profile files ----

  @Test
  void resolve_namedProfileInConfigFile_profileSectionRead() throws IOException {
    env.put("AWS_PROFILE", "ops");
    write(
        ".aws/config",
        "[default]",
        "aws_access_key_id = AKIDDEFAULT",
        "aws_secret_access_key = d",
        "[profile ops]",
        "region = eu-west-1",
        "aws_access_key_id = AKIDOPS",
        "aws_secret_access_key = o");

    AwsCredentials c = chain().resolve();

    assertThat(c.accessKeyId()).isEqualTo("AKIDOPS");
    assertThat(c.source()).isEqualTo("profile ops in " + home.resolve(".aws/config"));
  }

  // As the SDK: both files are merged key by key, the credentials file winning a key both have.
  @Test
  void resolve_profileInBothFiles_credentialsFileWinsKeyByKey() throws IOException {
    write(".aws/credentials", "[default]", "aws_access_key_id = AKIDCREDS");
    write(
        ".aws/config",
        "[default]",
        "aws_access_key_id = AKIDCONFIG",
        "aws_secret_access_key = from-config");

    AwsCredentials c = chain().resolve();

    assertThat(c.accessKeyId()).isEqualTo("AKIDCREDS");
    assertThat(c.secretAccessKey()).isEqualTo("from-config");
  }

  @Test
  void resolve_filesNamedByEnvironment_thoseReadNotHome() throws IOException {
    write(
        ".aws/credentials",
        "[default]",
        "aws_access_key_id = AKIDHOME",
        "aws_secret_access_key = h");
    write("elsewhere/creds", "[team]", "aws_access_key_id = AKIDTEAM", "aws_secret_access_key = t");
    env.put("AWS_SHARED_CREDENTIALS_FILE", home.resolve("elsewhere/creds").toString());
    env.put("AWS_CONFIG_FILE", home.resolve("elsewhere/missing-config").toString());
    env.put("AWS_PROFILE", "team");

    assertThat(chain().resolve().accessKeyId()).isEqualTo("AKIDTEAM");
  }

  @Test
  void resolve_profileMissingFromFiles_instanceProfileUsed() throws IOException {
    env.put("AWS_PROFILE", "absent");
    write(
        ".aws/credentials",
        "[default]",
        "aws_access_key_id = AKIDFILE",
        "aws_secret_access_key = f");
    sim.setInstanceProfile(ROLE, "ASIAROLE", "s", "t", inOneHour());

    assertThat(chain().resolve().accessKeyId()).isEqualTo("ASIAROLE");
  }

  // The SDK's chain, without STS, SSO, skipped such a profile; skipping it silently would leave an
  // operator wondering why the instance profile is used.
  @ParameterizedTest
  @ValueSource(
      strings = {
        "role_arn = arn:aws:iam::123456789012:role/x\nsource_profile = base",
        "credential_process = /usr/local/bin/creds",
        "sso_session = corp\nsso_account_id = 123456789012\nsso_role_name = ops",
        "web_identity_token_file = /var/run/token"
      })
  void resolve_profileAskingForUnsupported_warnedOnceAndSkipped(String lines) throws IOException {
    write(
        ".aws/config",
        "[profile ops]",
        "aws_access_key_id = AKIDBESIDE",
        "aws_secret_access_key = b",
        lines);
    env.put("AWS_PROFILE", "ops");
    String key = lines.substring(0, lines.indexOf(' '));
    CredentialsChain chain = chain();

    assertThatThrownBy(chain::resolve).hasMessageContaining(key + " is not supported");
    sim.setInstanceProfile(ROLE, "ASIAROLE", "s", "t", inOneHour());
    AwsCredentials c = chain.resolve();

    assertThat(c.accessKeyId()).isEqualTo("ASIAROLE");
    assertThat(warnings()).hasSize(1);
    assertThat(warnings().get(0)).contains("profile=ops", "key=" + key);
  }

  // ---- instance profile: refresh and expiry ----

  @Test
  void resolve_beforeRefreshWindow_keptWithoutAsking_thenFetchedAgain() {
    Instant expiry = inOneHour();
    sim.setInstanceProfile(ROLE, "ASIAFIRST", "s1", "t1", expiry);
    CredentialsChain chain = chain();
    assertThat(chain.resolve().accessKeyId()).isEqualTo("ASIAFIRST");
    sim.setInstanceProfile(ROLE, "ASIASECOND", "s2", "t2", expiry.plus(Duration.ofHours(1)));

    clock.set(expiry.minus(Duration.ofMinutes(5)).minusSeconds(1));
    assertThat(chain.resolve().accessKeyId()).isEqualTo("ASIAFIRST");

    clock.set(expiry.minus(Duration.ofMinutes(5)));
    AwsCredentials c = chain.resolve();
    assertThat(c.accessKeyId()).isEqualTo("ASIASECOND");
    assertThat(c.sessionToken()).contains("t2");
  }

  // The agent's clock is behind: by it, keys EC2 has already let expire are still fresh. AWS's
  // refusal of them (ExpiredToken) makes the next resolve fetch anew, whatever the expiry says.
  @Test
  void refused_heldOnesFetchedAnewAtOnce_othersUnaffected() {
    Instant expiry = inOneHour();
    sim.setInstanceProfile(ROLE, "ASIAFIRST", "s1", "t1", expiry);
    CredentialsChain chain = chain();
    AwsCredentials first = chain.resolve();
    sim.setInstanceProfile(ROLE, "ASIASECOND", "s2", "t2", expiry.plus(Duration.ofHours(1)));

    chain.refused(AwsCredentials.of("AKIDOTHER", "x", "someone else's"));
    assertThat(chain.resolve()).as("not the held ones: nothing changes").isSameAs(first);

    chain.refused(first);
    assertThat(chain.resolve().accessKeyId()).isEqualTo("ASIASECOND");
  }

  @Test
  void resolve_refreshFailsWhileValid_heldOnesUsedAndWarned_nextTryPaced() {
    Instant expiry = inOneHour();
    sim.setInstanceProfile(ROLE, "ASIAFIRST", "s1", "t1", expiry);
    CredentialsChain chain = chain();
    chain.resolve();
    sim.setImdsAvailable(false);

    clock.set(expiry.minus(Duration.ofMinutes(4)));
    assertThat(chain.resolve().accessKeyId()).isEqualTo("ASIAFIRST");
    assertThat(warnings()).singleElement().asString().contains("refresh failed");

    sim.setImdsAvailable(true);
    sim.setInstanceProfile(ROLE, "ASIASECOND", "s2", "t2", expiry.plus(Duration.ofHours(1)));
    clock.advance(InstanceProfileCredentials.REFETCH_PAUSE.minusSeconds(1));
    assertThat(chain.resolve().accessKeyId()).isEqualTo("ASIAFIRST");
    clock.advance(Duration.ofSeconds(1));
    assertThat(chain.resolve().accessKeyId()).isEqualTo("ASIASECOND");
  }

  // Thread safety: while one thread refreshes, another is given the valid ones held at once, not
  // made to wait for IMDS. The other thread here is the simulator's, asking while the refreshing
  // GET is in flight; were it made to wait, the refresh would time out and the test fail.
  @Test
  void resolve_whileAnotherThreadRefreshes_heldOnesWithoutWaiting() {
    Instant expiry = inOneHour();
    sim.setInstanceProfile(ROLE, "ASIAFIRST", "s1", "t1", expiry);
    CredentialsChain chain = chain();
    chain.resolve();
    sim.setInstanceProfile(ROLE, "ASIASECOND", "s2", "t2", expiry.plus(Duration.ofHours(1)));
    clock.set(expiry.minus(Duration.ofMinutes(4)));
    List<String> duringRefresh = new java.util.concurrent.CopyOnWriteArrayList<>();
    sim.afterImdsDelay((path, d) -> duringRefresh.add(chain.resolve().accessKeyId()));
    sim.delayImds(1, Duration.ofMillis(1));

    assertThat(chain.resolve().accessKeyId()).isEqualTo("ASIASECOND");
    assertThat(duringRefresh).containsExactly("ASIAFIRST");
  }

  @Test
  void resolve_heldOnesExpiredAndImdsFailing_neverUsed() {
    Instant expiry = inOneHour();
    sim.setInstanceProfile(ROLE, "ASIAFIRST", "s1", "t1", expiry);
    CredentialsChain chain = chain();
    chain.resolve();
    sim.setImdsAvailable(false);
    clock.set(expiry.minus(Duration.ofMinutes(1)));
    assertThat(chain.resolve().accessKeyId()).isEqualTo("ASIAFIRST");

    clock.set(expiry);

    assertThatThrownBy(chain::resolve)
        .isInstanceOf(CredentialsException.class)
        .hasMessageContaining("expired at " + expiry);
    sim.setImdsAvailable(true);
    sim.setInstanceProfile(ROLE, "ASIASECOND", "s2", "t2", expiry.plus(Duration.ofHours(1)));
    assertThat(chain.resolve().accessKeyId()).isEqualTo("ASIASECOND");
  }

  // Within REFETCH_PAUSE of the failed try, yet past expiration: fetched again, never the old ones.
  @Test
  void resolve_expiredWithinRefetchPause_fetchedNotPaced() {
    Instant expiry = inOneHour();
    sim.setInstanceProfile(ROLE, "ASIAFIRST", "s1", "t1", expiry);
    CredentialsChain chain = chain();
    chain.resolve();
    sim.setImdsAvailable(false);
    clock.set(expiry.minusSeconds(5));
    chain.resolve();
    sim.setImdsAvailable(true);
    sim.setInstanceProfile(ROLE, "ASIASECOND", "s2", "t2", expiry.plus(Duration.ofHours(1)));

    clock.set(expiry);

    assertThat(chain.resolve().accessKeyId()).isEqualTo("ASIASECOND");
  }

  @Test
  void resolve_imdsGivesKeysThatLookExpired_usedAndTheClockWarnedOf() {
    // This host's clock is ahead of AWS's: the keys IMDS has just fetched look expired by it.
    // Never using them would stop every heartbeat; AWS is the judge (and ExpiredToken refetches).
    sim.setInstanceProfile(ROLE, "ASIAFRESH", "s", "t", clock.instant().minusSeconds(60));

    assertThat(chain().resolve().accessKeyId()).isEqualTo("ASIAFRESH");
    assertThat(warnings())
        .singleElement()
        .asString()
        .contains("past their expiration by this host's clock", "at least PT1M");
  }

  @Test
  void resolve_roleDocumentNotSuccess_failureNamesTheCode() {
    sim.failInstanceProfile(ROLE, "AssumeRoleUnauthorizedAccess");

    assertThatThrownBy(() -> chain().resolve())
        .isInstanceOf(CredentialsException.class)
        .hasMessageContaining("instance profile role " + ROLE)
        .hasMessageContaining("Code AssumeRoleUnauthorizedAccess");
  }

  @Test
  void resolve_instanceProfileDisabledBySdkSetting_imdsNotAsked() {
    env.put("AWS_EC2_METADATA_DISABLED", "true");
    sim.setInstanceProfile(ROLE, "ASIAROLE", "s", "t", inOneHour());

    assertThatThrownBy(() -> chain().resolve())
        .hasMessageContaining("instance profile: disabled by env AWS_EC2_METADATA_DISABLED=true");
  }

  // ---- nothing found ----

  @Test
  void resolve_nothingAnywhere_oneLineSayingWhatWasTriedInOrderAndHowToFix() {
    CredentialsException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            CredentialsException.class, () -> chain().resolve());

    String m = e.getMessage();
    assertThat(m).doesNotContain("\n");
    assertThat(m)
        .containsSubsequence(
            "system properties aws.accessKeyId: not set",
            "env AWS_ACCESS_KEY_ID: not set",
            "profile default: neither " + home.resolve(".aws/credentials"),
            "instance profile from IMDS " + sim.imdsEndpoint(),
            "no instance profile is attached",
            "Attach an instance profile",
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  }

  // Nothing found is not final: an instance profile attached later is found on the next call.
  @Test
  void resolve_nothingThenInstanceProfileAttached_foundOnNextCall() {
    CredentialsChain chain = chain();
    assertThatThrownBy(chain::resolve).isInstanceOf(CredentialsException.class);

    sim.setInstanceProfile(ROLE, "ASIAROLE", "s", "t", inOneHour());

    assertThat(chain.resolve().accessKeyId()).isEqualTo("ASIAROLE");
  }
}
