package dev.drainguard.testing;

import dev.drainguard.net.LoopbackGuard;
import java.io.FilterInputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.http.AbortableInputStream;
import software.amazon.awssdk.http.ExecutableHttpRequest;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.HttpExecuteResponse;
import software.amazon.awssdk.http.SdkHttpClient;

/**
 * The transport of the AWS SDK clients the tests use as oracles (the agent itself no longer uses
 * the SDK; its own transport is {@code net.BoundedHttp}): it asks the {@link LoopbackGuard} about
 * each request's real target before any connection is opened, so neither an SDK default endpoint
 * nor a redirect can slip past the guard.
 */
public final class GuardedHttpClient implements SdkHttpClient {

  /**
   * Aborts exchanges that outlive their limit; one daemon thread for every client, and for the AWS
   * SDK's own call timeouts ({@link #deadlines()}). A deadline cancelled when its exchange ends is
   * removed at once: otherwise the thread would wake for each one when it fell due (three times per
   * idle IMDS poll).
   */
  private static final ScheduledExecutorService ABORTS = deadlineThread();

  private final SdkHttpClient delegate;
  private final LoopbackGuard guard;
  private final String what;
  private final Optional<Duration> exchangeLimit;

  public GuardedHttpClient(SdkHttpClient delegate, LoopbackGuard guard, String what) {
    this(delegate, guard, what, Optional.empty());
  }

  /**
   * @param exchangeLimit bounds each exchange as a whole, connect, headers and body: a server that
   *     trickles its answer a byte at a time is cut off at the limit (the per-read socket timeout
   *     alone never fires then)
   */
  public GuardedHttpClient(
      SdkHttpClient delegate, LoopbackGuard guard, String what, Optional<Duration> exchangeLimit) {
    this.delegate = delegate;
    this.guard = guard;
    this.what = what;
    this.exchangeLimit = exchangeLimit;
  }

  /**
   * The one scheduler thread of the agent's HTTP deadlines: give it to an SDK client as its {@code
   * scheduledExecutorService} so that the SDK starts no threads of its own for its call timeouts.
   * Never shut it down.
   */
  public static ScheduledExecutorService deadlines() {
    return ABORTS;
  }

  private static ScheduledExecutorService deadlineThread() {
    ScheduledThreadPoolExecutor e =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "drainguard-http-deadline");
              t.setDaemon(true);
              return t;
            });
    e.setRemoveOnCancelPolicy(true);
    return Executors.unconfigurableScheduledExecutorService(e);
  }

  @Override
  public ExecutableHttpRequest prepareRequest(HttpExecuteRequest request) {
    guard.check(what, request.httpRequest().getUri());
    ExecutableHttpRequest r = delegate.prepareRequest(request);
    return exchangeLimit.isEmpty() ? r : new Bounded(r, exchangeLimit.get());
  }

  /** An exchange that is aborted at its limit unless its answer has been read and closed. */
  private static final class Bounded implements ExecutableHttpRequest {
    private final ExecutableHttpRequest r;
    private final Duration limit;

    Bounded(ExecutableHttpRequest r, Duration limit) {
      this.r = r;
      this.limit = limit;
    }

    @Override
    public HttpExecuteResponse call() throws IOException {
      ScheduledFuture<?> abort = ABORTS.schedule(r::abort, limit.toMillis(), TimeUnit.MILLISECONDS);
      try {
        HttpExecuteResponse response = r.call();
        if (response.responseBody().isEmpty()) {
          abort.cancel(false);
          return response;
        }
        AbortableInputStream body = response.responseBody().get();
        AbortableInputStream bounded =
            AbortableInputStream.create(
                new FilterInputStream(body) {
                  @Override
                  public void close() throws IOException {
                    abort.cancel(false);
                    super.close();
                  }
                },
                body::abort);
        return HttpExecuteResponse.builder()
            .response(response.httpResponse())
            .responseBody(bounded)
            .build();
      } catch (IOException | RuntimeException e) {
        abort.cancel(false);
        throw e;
      }
    }

    @Override
    public void abort() {
      r.abort();
    }
  }

  @Override
  public String clientName() {
    return delegate.clientName();
  }

  @Override
  public void close() {
    delegate.close();
  }
}
