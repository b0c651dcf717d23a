package dev.drainguard.net;

import software.amazon.awssdk.http.ExecutableHttpRequest;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.SdkHttpClient;

/**
 * The one transport every AWS SDK client of the agent uses: it asks the {@link LoopbackGuard} about
 * each request's real target before any connection is opened, so neither an SDK default endpoint
 * nor a redirect can slip past the guard.
 */
public final class GuardedHttpClient implements SdkHttpClient {

  private final SdkHttpClient delegate;
  private final LoopbackGuard guard;
  private final String what;

  public GuardedHttpClient(SdkHttpClient delegate, LoopbackGuard guard, String what) {
    this.delegate = delegate;
    this.guard = guard;
    this.what = what;
  }

  @Override
  public ExecutableHttpRequest prepareRequest(HttpExecuteRequest request) {
    guard.check(what, request.httpRequest().getUri());
    return delegate.prepareRequest(request);
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
