package dev.drainguard.aws;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * AWS Signature Version 4 in the {@code Authorization} header, for a request whose whole body is at
 * hand (the Query API's form POST), with the JDK's own HMAC-SHA256 and SHA-256.
 *
 * <p>As the AWS SDK's signer does for every service but S3: the path is normalized (dot segments
 * removed) and its already-encoded segments encoded once more; query parameters are decoded, then
 * encoded and sorted; every header the caller gives is signed except the few a proxy may change
 * ({@code Connection}, {@code Expect}, {@code User-Agent}, {@code X-Amzn-Trace-Id}); the payload
 * hash is also sent and signed as {@code X-Amz-Content-Sha256}, as the SDK's Auto Scaling client
 * sends it (optional for every service but S3, and proven against Auto Scaling and moto).
 */
public final class SigV4 {

  static final String ALGORITHM = "AWS4-HMAC-SHA256";
  static final String AMZ_DATE = "X-Amz-Date";
  static final String CONTENT_SHA256 = "X-Amz-Content-Sha256";
  static final String SECURITY_TOKEN = "X-Amz-Security-Token";
  static final String AUTHORIZATION = "Authorization";

  /** Headers the SDK leaves unsigned: hops, proxies and tracers may add or change them. */
  private static final Set<String> UNSIGNED =
      Set.of("connection", "expect", "user-agent", "x-amzn-trace-id");

  /** Headers this class computes: one passed in would be signed stale (a retry's old signature). */
  private static final Set<String> COMPUTED =
      Set.of("authorization", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token");

  private static final DateTimeFormatter DATE_TIME =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private SigV4() {}

  /**
   * Signs one request.
   *
   * @param headers the request's headers, {@code Host} among them (with the port when it is not the
   *     scheme's default, exactly as sent)
   * @param body the exact bytes sent; empty for none
   * @param now the signing time; AWS refuses a signature more than 5 minutes off its clock
   * @return the headers to add to the request, in this order: {@code X-Amz-Date}, {@code
   *     X-Amz-Content-Sha256}, {@code X-Amz-Security-Token} (temporary credentials only) and {@code
   *     Authorization}
   * @throws IllegalArgumentException when {@code headers} has no {@code Host}, or has one of the
   *     headers returned
   */
  public static Map<String, String> sign(
      String method,
      URI uri,
      Map<String, String> headers,
      byte[] body,
      AwsCredentials c,
      String region,
      String service,
      Instant now) {
    return sign(method, uri, headers, body, c, region, service, now, true);
  }

  /**
   * As above; without {@code X-Amz-Content-Sha256} when {@code contentSha256Header} is false, the
   * form of AWS's original Signature Version 4 test suite.
   */
  static Map<String, String> sign(
      String method,
      URI uri,
      Map<String, String> headers,
      byte[] body,
      AwsCredentials c,
      String region,
      String service,
      Instant now,
      boolean contentSha256Header) {
    String payloadHash = hex(sha256(body));
    String amzDate = DATE_TIME.format(now);
    String scope = amzDate.substring(0, 8) + "/" + region + "/" + service + "/aws4_request";

    Map<String, String> added = new LinkedHashMap<>();
    added.put(AMZ_DATE, amzDate);
    if (contentSha256Header) {
      added.put(CONTENT_SHA256, payloadHash);
    }
    c.sessionToken().ifPresent(t -> added.put(SECURITY_TOKEN, t));

    TreeMap<String, String> signed = canonicalHeaders(headers);
    added.forEach((k, v) -> signed.put(k.toLowerCase(Locale.ROOT), v));
    String signedHeaders = String.join(";", signed.keySet());

    StringBuilder canonical = new StringBuilder();
    canonical.append(method.toUpperCase(Locale.ROOT)).append('\n');
    canonical.append(canonicalPath(uri)).append('\n');
    canonical.append(canonicalQuery(uri.getRawQuery())).append('\n');
    signed.forEach((k, v) -> canonical.append(k).append(':').append(v).append('\n'));
    canonical.append('\n').append(signedHeaders).append('\n');
    canonical.append(payloadHash);

    String stringToSign =
        ALGORITHM
            + "\n"
            + amzDate
            + "\n"
            + scope
            + "\n"
            + hex(sha256(canonical.toString().getBytes(StandardCharsets.UTF_8)));

    byte[] key = ("AWS4" + c.secretAccessKey()).getBytes(StandardCharsets.UTF_8);
    for (String part : List.of(amzDate.substring(0, 8), region, service, "aws4_request")) {
      key = hmac(key, part);
    }
    String signature = hex(hmac(key, stringToSign));

    added.put(
        AUTHORIZATION,
        ALGORITHM
            + " Credential="
            + c.accessKeyId()
            + "/"
            + scope
            + ", SignedHeaders="
            + signedHeaders
            + ", Signature="
            + signature);
    return added;
  }

  /** Lower-case names, sorted; values trimmed, inner runs of spaces made one. */
  private static TreeMap<String, String> canonicalHeaders(Map<String, String> headers) {
    TreeMap<String, String> out = new TreeMap<>();
    headers.forEach(
        (name, value) -> {
          String n = name.toLowerCase(Locale.ROOT);
          if (COMPUTED.contains(n)) {
            throw new IllegalArgumentException(
                "header " + name + " is computed by the signer, it must not be passed in");
          }
          if (UNSIGNED.contains(n)) {
            return;
          }
          String v = value.strip().replaceAll(" +", " ");
          out.merge(n, v, (a, b) -> a + "," + b);
        });
    if (!out.containsKey("host")) {
      throw new IllegalArgumentException("a signed request needs its Host header");
    }
    return out;
  }

  /** The raw path, dot segments removed, each segment encoded once more ({@code %} too). */
  static String canonicalPath(URI uri) {
    String path = uri.normalize().getRawPath();
    if (path == null || path.isEmpty()) {
      return "/";
    }
    StringBuilder out = new StringBuilder(path.length() + 16);
    int start = 0;
    while (true) {
      int slash = path.indexOf('/', start);
      out.append(encode(path.substring(start, slash < 0 ? path.length() : slash)));
      if (slash < 0) {
        break;
      }
      out.append('/');
      start = slash + 1;
    }
    return out.toString();
  }

  /** Parameters decoded, then each name and value encoded, sorted by name, then value. */
  static String canonicalQuery(String rawQuery) {
    if (rawQuery == null || rawQuery.isEmpty()) {
      return "";
    }
    List<String[]> params = new ArrayList<>();
    for (String pair : rawQuery.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : pair.substring(eq + 1);
      params.add(new String[] {encode(decode(name)), encode(decode(value))});
    }
    params.sort((a, b) -> a[0].equals(b[0]) ? a[1].compareTo(b[1]) : a[0].compareTo(b[0]));
    StringBuilder out = new StringBuilder();
    for (String[] p : params) {
      if (out.length() > 0) {
        out.append('&');
      }
      out.append(p[0]).append('=').append(p[1]);
    }
    return out.toString();
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  /** RFC 3986 percent-encoding of every byte but the unreserved {@code A-Z a-z 0-9 - _ . ~}. */
  static String encode(String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    StringBuilder out = new StringBuilder(bytes.length);
    for (byte b : bytes) {
      int c = b & 0xff;
      if ((c >= 'A' && c <= 'Z')
          || (c >= 'a' && c <= 'z')
          || (c >= '0' && c <= '9')
          || c == '-'
          || c == '_'
          || c == '.'
          || c == '~') {
        out.append((char) c);
      } else {
        out.append('%')
            .append(Character.toUpperCase(HEX[c >> 4]))
            .append(Character.toUpperCase(HEX[c & 0xf]));
      }
    }
    return out.toString();
  }

  private static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  private static byte[] hmac(byte[] key, String data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no HmacSHA256", e);
    }
  }

  private static String hex(byte[] bytes) {
    char[] out = new char[bytes.length * 2];
    for (int i = 0; i < bytes.length; i++) {
      out[2 * i] = HEX[(bytes[i] >> 4) & 0xf];
      out[2 * i + 1] = HEX[bytes[i] & 0xf];
    }
    return new String(out);
  }
}
