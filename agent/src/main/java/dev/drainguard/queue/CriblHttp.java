package dev.drainguard.queue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One GET to the Cribl API, bounded as a whole: connecting, the headers <em>and</em> the body must
 * all arrive within the time given, and the body is at most {@link #MAX_BODY}. {@link
 * HttpRequest#timeout} alone bounds only the wait for the headers: an API that sent its headers and
 * half its body, then stalled, blocked the reading for ever.
 */
final class CriblHttp {

  /** A metrics answer for one worker process is a few KiB; this is a bound, not a size. */
  static final int MAX_BODY = 4 * 1024 * 1024;

  /** What the API answered. */
  record Answer(int status, String body) {}

  private final HttpClient http;

  CriblHttp(Duration connectTimeout) {
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(connectTimeout)
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  /**
   * GETs {@code uri}, with {@code Authorization: Bearer token} unless the token is empty. The token
   * must already be a valid header value ({@link CriblToken} sees to it), so that no exception
   * message can ever quote it.
   *
   * @throws TimeoutException when the whole exchange has not ended within {@code within}; the
   *     exchange is cancelled
   * @throws IOException when it failed otherwise (refused, reset, a body over {@link #MAX_BODY})
   */
  Answer get(URI uri, String token, Duration within)
      throws IOException, TimeoutException, InterruptedException {
    HttpRequest.Builder req =
        HttpRequest.newBuilder(uri).timeout(within).GET().header("Accept", "application/json");
    if (!token.isEmpty()) {
      req.header("Authorization", "Bearer " + token);
    }
    CompletableFuture<HttpResponse<String>> pending =
        http.sendAsync(req.build(), info -> new LimitedBody(MAX_BODY));
    try {
      HttpResponse<String> res = pending.get(within.toMillis(), TimeUnit.MILLISECONDS);
      return new Answer(res.statusCode(), res.body());
    } catch (TimeoutException e) {
      pending.cancel(true);
      throw e;
    } catch (InterruptedException e) {
      pending.cancel(true);
      throw e;
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof HttpTimeoutException) {
        throw new TimeoutException(cause.getMessage());
      }
      if (cause instanceof IOException io) {
        throw io;
      }
      throw new IOException(cause.getClass().getSimpleName() + ": " + cause.getMessage());
    }
  }

  /** Collects a body up to a limit, and fails the exchange beyond it. */
  static final class LimitedBody implements HttpResponse.BodySubscriber<String> {
    private final int limit;
    private final CompletableFuture<String> body = new CompletableFuture<>();
    private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
    private Flow.Subscription subscription;

    LimitedBody(int limit) {
      this.limit = limit;
    }

    @Override
    public CompletionStage<String> getBody() {
      return body;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
      if (body.isDone()) {
        return;
      }
      for (ByteBuffer b : items) {
        if (kept.size() + b.remaining() > limit) {
          subscription.cancel();
          body.completeExceptionally(
              new IOException("the answer is larger than " + limit + " bytes"));
          return;
        }
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        kept.write(bytes, 0, bytes.length);
      }
    }

    @Override
    public void onError(Throwable t) {
      body.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
      body.complete(kept.toString(StandardCharsets.UTF_8));
    }
  }
}
