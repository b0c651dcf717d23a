package dev.drainguard.sim;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Auto Scaling Query API: form-encoded {@code POST /} with {@code Action=…}, answered with the
 * action's XML or an {@code ErrorResponse}. Signatures are not checked. Every request is recorded.
 */
final class AutoScalingHandler implements HttpHandler {

  private static final Logger log = LoggerFactory.getLogger(AutoScalingHandler.class);

  private record Fault(int timesLeft, int httpStatus, String code, String message) {}

  /** Calls of {@code action} throttled while the clock is in {@code [from, until)}. */
  private record Throttle(String action, Instant from, Instant until) {
    boolean covers(String a, Instant now) {
      return action.equals(a) && !now.isBefore(from) && now.isBefore(until);
    }
  }

  static final String THROTTLING = "Throttling";
  static final String RATE_EXCEEDED = "Rate exceeded";

  /**
   * A response that is delayed ({@code latency}) or replaced ({@code body}) after the action ran.
   */
  private record Mangle(int timesLeft, Duration latency, String body) {
    Mangle next() {
      return new Mangle(timesLeft - 1, latency, body);
    }
  }

  private final SimModel model;
  private final AutoScalingActions actions;
  private final List<ApiCall> calls = new ArrayList<>();
  private final Map<String, Fault> faults = new HashMap<>();
  private final Map<String, Mangle> mangles = new HashMap<>();
  private final List<Throttle> throttles = new ArrayList<>();

  AutoScalingHandler(SimModel model) {
    this.model = model;
    this.actions = new AutoScalingActions(model);
  }

  synchronized void failNext(String action, int times, int httpStatus, String code, String msg) {
    faults.put(action, new Fault(times, httpStatus, code, msg));
  }

  synchronized void throttleBetween(String action, Instant from, Instant until) {
    if (!until.isAfter(from)) {
      throw new IllegalArgumentException(
          "throttle window must end after it starts: " + from + " to " + until);
    }
    throttles.add(new Throttle(action, from, until));
  }

  synchronized void delayNext(String action, int times, Duration latency) {
    if (latency.isNegative()) {
      throw new IllegalArgumentException("API latency must not be negative: " + latency);
    }
    mangles.put(action, new Mangle(times, latency, null));
  }

  synchronized void corruptNext(String action, int times, String body) {
    mangles.put(action, new Mangle(times, Duration.ZERO, body));
  }

  synchronized List<ApiCall> calls() {
    return List.copyOf(calls);
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      Map<String, String> params = new LinkedHashMap<>();
      params.putAll(HttpIo.parseForm(exchange.getRequestURI().getRawQuery()));
      params.putAll(HttpIo.parseForm(HttpIo.readBody(exchange)));
      String action = params.get("Action");
      String requestId = UUID.randomUUID().toString();
      ApiCall call;
      String xml;
      try {
        injectedFault(action);
        xml = QueryXml.response(action, actions.answer(action, params), requestId);
        call = new ApiCall(model.clock().instant(), action, copy(params), 200, null);
      } catch (ApiError e) {
        xml = QueryXml.error(e.type(), e.code(), e.getMessage(), requestId);
        call = new ApiCall(model.clock().instant(), action, copy(params), e.httpStatus(), e.code());
      }
      record(call);
      Mangle mangle = takeMangle(action);
      if (mangle != null && !HttpIo.pause(mangle.latency())) {
        return; // the simulator is closing
      }
      if (mangle != null && mangle.body() != null) {
        log.debug("autoscaling response corrupted action={} requestId={}", action, requestId);
        HttpIo.send(exchange, 200, "text/xml", mangle.body());
        return;
      }
      log.debug(
          "autoscaling request action={} instance={} status={} error={} requestId={}",
          action,
          params.get("InstanceId"),
          call.httpStatus(),
          call.errorCode(),
          requestId);
      exchange.getResponseHeaders().set("x-amzn-RequestId", requestId);
      HttpIo.send(exchange, call.httpStatus(), "text/xml", xml);
    }
  }

  private synchronized void injectedFault(String action) {
    Fault fault = action == null ? null : faults.get(action);
    if (fault == null || fault.timesLeft() <= 0) {
      Instant now = model.clock().instant();
      if (action != null && throttles.stream().anyMatch(t -> t.covers(action, now))) {
        throw new ApiError(400, THROTTLING, RATE_EXCEEDED);
      }
      return;
    }
    faults.put(
        action,
        new Fault(fault.timesLeft() - 1, fault.httpStatus(), fault.code(), fault.message()));
    throw new ApiError(fault.httpStatus(), fault.code(), fault.message());
  }

  /** The delay or corruption for this response, if one is pending for the action. */
  private synchronized Mangle takeMangle(String action) {
    Mangle m = action == null ? null : mangles.get(action);
    if (m == null || m.timesLeft() <= 0) {
      return null;
    }
    mangles.put(action, m.next());
    return m;
  }

  private synchronized void record(ApiCall call) {
    calls.add(call);
  }

  private static Map<String, String> copy(Map<String, String> params) {
    return Collections.unmodifiableMap(new LinkedHashMap<>(params));
  }
}
