package dev.drainguard.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.drainguard.aws.AwsCredentials;
import dev.drainguard.aws.CredentialsChain;
import dev.drainguard.aws.CredentialsProvider;
import dev.drainguard.imds.HttpInstanceMetadata;
import dev.drainguard.net.LoopbackGuard;
import dev.drainguard.net.RetryPolicy;
import dev.drainguard.net.Sleeper;
import dev.drainguard.sim.Simulator;
import dev.drainguard.testing.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Adversary, holding: keys Auto Scaling refuses (ExpiredToken, InvalidClientTokenId) go back to the
 * instance profile, which fetches anew from IMDS. The Auto Scaling client and the credentials chain
 * end to end against the simulator's Auto Scaling and IMDS over loopback, IMDS's credential reads
 * counted: a refusing endpoint gets one fetch per call from it, never a loop, from one thread or
 * several.
 */
class CredentialsRefusedTest {

  private static final String ROLE = "drainguard-worker";
  private static final String INSTANCE = "i-0123456789abcdef0";
  private static final String DOCUMENT = "/latest/meta-data/iam/security-credentials/" + ROLE;
  private static final RetryPolicy RETRY =
      new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(1));

  @TempDir Path home;
  private final MutableClock clock = MutableClock.atNewYear();
  private final List<String> imdsReads = new CopyOnWriteArrayList<>();
  private final List<String> signedWith = new CopyOnWriteArrayList<>();
  private Simulator sim;
  private QueryLifecycleActions api;

  @BeforeEach
  void start() {
    sim = Simulator.start(clock);
    sim.addInstance(null, INSTANCE, "eu-west-1", false);
    sim.setInstanceProfile(
        ROLE, "ASIAFIRST", "s1", "t1", clock.instant().plus(Duration.ofHours(6)));
    // Every IMDS request is held 1 ms, which lets the test see its path.
    sim.afterImdsDelay((path, d) -> imdsReads.add(path));
    sim.delayImds(Integer.MAX_VALUE, Duration.ofMillis(1));
    CredentialsChain chain =
        new CredentialsChain(
            Map.of(),
            k -> k.equals("user.home") ? home.toString() : null, // no profile files there
            new HttpInstanceMetadata(
                sim.imdsEndpoint(), LoopbackGuard.of(true), RETRY, Sleeper.NONE),
            clock);
    CredentialsProvider recording =
        new CredentialsProvider() {
          @Override
          public AwsCredentials resolve() {
            AwsCredentials c = chain.resolve();
            signedWith.add(c.accessKeyId());
            return c;
          }

          @Override
          public void refused(AwsCredentials c) {
            chain.refused(c);
          }
        };
    api =
        new QueryLifecycleActions(
            "eu-west-1",
            sim.autoScalingEndpoint(),
            recording,
            LoopbackGuard.of(true),
            RETRY,
            Sleeper.NONE);
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  private long documentReads() {
    return imdsReads.stream().filter(DOCUMENT::equals).count();
  }

  // The agent's clock is behind AWS's: keys EC2 has let expire look fresh to it. The refusal makes
  // the instance profile fetch at once, and the same call goes through with the rotated keys.
  @Test
  void keysRefusedAsExpired_rotatedOnesFetched_andTheCallGoesThrough() {
    sim.failApi("DescribeAutoScalingInstances", 1, 403, "ExpiredToken", "The security token");
    api.describeInstance(INSTANCE); // fails once, then takes the keys held: ASIAFIRST both times
    assertThat(signedWith).containsExactly("ASIAFIRST", "ASIAFIRST");

    sim.setInstanceProfile(
        ROLE, "ASIASECOND", "s2", "t2", clock.instant().plus(Duration.ofHours(7)));
    sim.failApi("DescribeAutoScalingInstances", 1, 403, "ExpiredToken", "The security token");
    signedWith.clear();

    assertThat(api.describeInstance(INSTANCE)).isEmpty(); // in no group: answered
    assertThat(signedWith).containsExactly("ASIAFIRST", "ASIASECOND");
  }

  // IMDS keeps giving the keys AWS refuses (a role in another account, keys revoked): every call
  // is refused twice and ends, REJECTED; IMDS is asked once per call, not per attempt nor more.
  @Test
  void keysAlwaysRefused_oneImdsFetchPerCall_andEveryCallEnds() {
    sim.failApi("RecordLifecycleActionHeartbeat", 1000, 403, "InvalidClientTokenId", "not valid");
    LifecycleHookRef ref = new LifecycleHookRef("g", "drain", INSTANCE);
    int calls = 10;

    for (int i = 0; i < calls; i++) {
      LifecycleApiException e =
          catchThrowableOfType(LifecycleApiException.class, () -> api.heartbeat(ref));
      assertThat(e.kind()).isEqualTo(LifecycleApiException.Kind.REJECTED);
      assertThat(e.errorCode()).isEqualTo("InvalidClientTokenId");
    }

    assertThat(sim.calls("RecordLifecycleActionHeartbeat")).hasSize(2 * calls);
    assertThat(documentReads()).isEqualTo(1 + calls); // the first resolve, then one per call
  }

  // The same from four threads at once (the agent's calls each have a thread): no call loops or
  // waits on another for ever, and IMDS gets at most one fetch per refused call.
  @Test
  void keysAlwaysRefused_fromSeveralThreads_boundedFetches() throws Exception {
    sim.failApi("RecordLifecycleActionHeartbeat", 1000, 403, "ExpiredToken", "expired");
    LifecycleHookRef ref = new LifecycleHookRef("g", "drain", INSTANCE);
    api.describeInstance(INSTANCE); // the chain finds the instance profile first
    long before = documentReads();
    int threads = 4;
    int each = 5;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<List<LifecycleApiException>>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        done.add(
            pool.submit(
                () -> {
                  List<LifecycleApiException> out = new ArrayList<>();
                  for (int i = 0; i < each; i++) {
                    out.add(
                        catchThrowableOfType(
                            LifecycleApiException.class, () -> api.heartbeat(ref)));
                  }
                  return out;
                }));
      }
      for (Future<List<LifecycleApiException>> f : done) {
        assertThat(f.get(60, TimeUnit.SECONDS))
            .hasSize(each)
            .allSatisfy(e -> assertThat(e.errorCode()).isEqualTo("ExpiredToken"));
      }
    } finally {
      pool.shutdownNow();
    }

    assertThat(sim.calls("RecordLifecycleActionHeartbeat")).hasSize(2 * threads * each);
    assertThat(documentReads() - before).isBetween(1L, (long) threads * each);
  }

  // A refusal while IMDS is down: the one fetch fails, the call is signed once more with the keys
  // held (nothing better) and ends; the keys held are never taken past their expiration.
  @Test
  void keysRefusedWhileImdsDown_callEnds_expiredKeysNeverUsed() {
    api.describeInstance(INSTANCE);
    sim.setImdsAvailable(false);
    sim.failApi("DescribeAutoScalingInstances", 1000, 403, "ExpiredToken", "expired");
    signedWith.clear();

    LifecycleApiException e =
        catchThrowableOfType(LifecycleApiException.class, () -> api.describeInstance(INSTANCE));
    assertThat(e.errorCode()).isEqualTo("ExpiredToken");
    assertThat(signedWith).containsExactly("ASIAFIRST", "ASIAFIRST");

    clock.set(Instant.parse("2026-01-01T06:00:00Z")); // the keys' expiration, by the agent's clock
    signedWith.clear();
    LifecycleApiException late =
        catchThrowableOfType(LifecycleApiException.class, () -> api.describeInstance(INSTANCE));
    assertThat(late.kind()).isEqualTo(LifecycleApiException.Kind.UNAVAILABLE);
    assertThat(signedWith).isEmpty();
    assertThat(sim.calls("DescribeAutoScalingInstances")).hasSize(1 + 2);
  }
}
