package dev.drainguard.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS on loopback for tests: a key pair and self-signed certificate made by the JDK's own {@code
 * keytool}, a server socket that presents it, and a client socket factory that trusts it (and still
 * checks the host name).
 */
public final class TestTls {

  private static final char[] PASSWORD = "password".toCharArray();

  private TestTls() {}

  /**
   * A new key pair whose certificate names {@code san} (keytool's syntax, e.g. {@code IP:127.0.0.1}
   * or {@code DNS:autoscaling.example.invalid}), in a PKCS12 store under {@code dir}.
   */
  public static KeyStore keyStore(Path dir, String san) throws Exception {
    Path file = dir.resolve("server.p12");
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-alias",
                "server",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                "CN=drainguard test",
                "-ext",
                "SAN=" + san,
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                file.toString(),
                "-storepass",
                new String(PASSWORD),
                "-keypass",
                new String(PASSWORD))
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(file)) {
      ks.load(in, PASSWORD);
    }
    return ks;
  }

  /** A TLS server socket on 127.0.0.1, any free port, presenting the key store's certificate. */
  public static SSLServerSocket server(KeyStore ks) throws Exception {
    KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
    kmf.init(ks, PASSWORD);
    SSLContext c = SSLContext.getInstance("TLS");
    c.init(kmf.getKeyManagers(), null, null);
    return (SSLServerSocket)
        c.getServerSocketFactory().createServerSocket(0, 5, InetAddress.getLoopbackAddress());
  }

  /** Client sockets that trust the key store's certificate, and no other. */
  public static SSLSocketFactory trusting(KeyStore ks) {
    try {
      TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
      tmf.init(ks);
      SSLContext c = SSLContext.getInstance("TLS");
      c.init(null, tmf.getTrustManagers(), null);
      return c.getSocketFactory();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
