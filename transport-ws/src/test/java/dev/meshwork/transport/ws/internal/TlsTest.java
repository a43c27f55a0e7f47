package dev.meshwork.transport.ws.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.MeshworkException;
import dev.meshwork.api.transport.Connection;
import dev.meshwork.api.transport.DialOptions;
import dev.meshwork.api.transport.TransportListener;
import dev.meshwork.testkit.Await;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.util.Base64;
import java.util.Set;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** wss with a self-signed certificate made by the JDK's keytool (no BouncyCastle needed on JDK 17+). */
class TlsTest {

    @TempDir
    static Path dir;
    static Path keyStore;
    static Path certPem;
    static WsTransportEngine server;
    static TransportListener listener;

    @BeforeAll
    static void startServer() throws Exception {
        keyStore = dir.resolve("server.p12");
        certPem = dir.resolve("server.pem");
        keytool("-genkeypair", "-keystore", keyStore.toString(), "-storetype", "PKCS12", "-storepass", "secret",
                "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost",
                "-ext", "san=dns:localhost,ip:127.0.0.1", "-validity", "2");
        keytool("-exportcert", "-rfc", "-keystore", keyStore.toString(), "-storetype", "PKCS12", "-storepass", "secret",
                "-alias", "server", "-file", certPem.toString());
        WsSettings.TlsSettings tls = new WsSettings.TlsSettings(Optional.of(keyStore), Optional.empty(), "secret",
                Optional.empty(), "", false, false);
        server = Fixtures.engine(Fixtures.settings().withTls(tls));
        listener = Fixtures.listen(server, "wss", c -> new Recorder(true));
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    private static void keytool(String... args) throws Exception {
        String[] command = new String[args.length + 1];
        command[0] = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        System.arraycopy(args, 0, command, 1, args.length);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, "keytool failed: " + output);
    }

    private static WsTransportEngine client(Optional<Path> trust, boolean insecure) {
        return Fixtures.engine(Fixtures.settings().withTls(new WsSettings.TlsSettings(Optional.empty(), Optional.empty(), "",
                trust, "", false, insecure)));
    }

    private static MeshworkException failure(CompletableFuture<Connection> dial) throws Exception {
        try {
            dial.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return assertInstanceOf(MeshworkException.class, e.getCause());
        }
        throw new AssertionError("dial succeeded");
    }

    @Test
    void echoesOverWssWhenTheCertificateIsTrusted() throws Exception {
        try (WsTransportEngine client = client(Optional.of(certPem), false)) {
            Recorder recorder = new Recorder();
            Connection c = Fixtures.dial(client, listener.uri(), recorder);
            c.send(Fixtures.message("tls", 1000)).get(5, TimeUnit.SECONDS);
            Await.until("echo over TLS", Duration.ofSeconds(5), () -> recorder.messages.size() == 1);
        }
    }

    @Test
    void untrustedCertificateIsRejectedPermanently() throws Exception {
        try (WsTransportEngine client = client(Optional.empty(), false)) {
            MeshworkException e = failure(client.dial(listener.uri(), DialOptions.DEFAULT, new Recorder()));
            assertFalse(e.isRetryable());
            assertEquals(FailureCode.CERTIFICATE_REJECTED, e.code());
        }
    }

    @Test
    void hostNameMismatchIsRejectedPermanently() throws Exception {
        try (WsTransportEngine client = client(Optional.of(certPem), false)) {
            DialOptions other = new DialOptions(Duration.ofSeconds(3), Duration.ofSeconds(5), Optional.of("other.example"));
            MeshworkException e = failure(client.dial(listener.uri(), other, new Recorder()));
            assertFalse(e.isRetryable());
            assertEquals(FailureCode.CERTIFICATE_REJECTED, e.code());
        }
    }

    @Test
    void insecureSkipVerifyAcceptsAnyCertificate() throws Exception {
        try (WsTransportEngine client = client(Optional.empty(), true)) {
            Connection c = Fixtures.dial(client, listener.uri(), new Recorder());
            assertTrue(c.isOpen());
        }
    }

    /** Makes a PKCS#12 key pair for {@code cn} and exports its certificate as PEM. */
    private static Path[] keyPair(String name, String cn) throws Exception {
        Path p12 = dir.resolve(name + ".p12");
        Path pem = dir.resolve(name + ".pem");
        keytool("-genkeypair", "-keystore", p12.toString(), "-storetype", "PKCS12", "-storepass", "secret",
                "-alias", name, "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + cn,
                "-ext", "san=dns:localhost,ip:127.0.0.1", "-validity", "2");
        keytool("-exportcert", "-rfc", "-keystore", p12.toString(), "-storetype", "PKCS12", "-storepass", "secret",
                "-alias", name, "-file", pem.toString());
        return new Path[] {p12, pem};
    }

    /** The private key of a PKCS#12 file as an unencrypted PKCS#8 PEM file (what openssl would write). */
    private static Path pkcs8Pem(Path p12, String alias) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(p12)) {
            ks.load(in, "secret".toCharArray());
        }
        PrivateKey key = (PrivateKey) ks.getKey(alias, "secret".toCharArray());
        Path pem = dir.resolve(alias + "-key.pem");
        Files.writeString(pem, "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(key.getEncoded())
                + "\n-----END PRIVATE KEY-----\n");
        return pem;
    }

    @Test
    void serverRequiringClientCertificatesAcceptsATrustedOneAndRefusesNone() throws Exception {
        Path[] client = keyPair("client", "client.example");
        WsSettings.TlsSettings serverTls = new WsSettings.TlsSettings(Optional.of(keyStore), Optional.empty(), "secret",
                Optional.of(client[1]), "", true, false);
        try (WsTransportEngine mtlsServer = Fixtures.engine(Fixtures.settings().withTls(serverTls))) {
            java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();
            TransportListener mtls = Fixtures.listen(mtlsServer, "wss", c -> {
                accepted.incrementAndGet();
                return new Recorder(true);
            });
            // with its certificate: the upgrade completes and frames echo
            try (WsTransportEngine withCert = Fixtures.engine(Fixtures.settings().withTls(new WsSettings.TlsSettings(
                    Optional.of(client[0]), Optional.empty(), "secret", Optional.of(certPem), "", false, false)))) {
                Recorder recorder = new Recorder();
                Connection c = Fixtures.dial(withCert, mtls.uri(), recorder);
                c.send(Fixtures.message("mtls", 100)).get(5, TimeUnit.SECONDS);
                Await.until("echo over mutual TLS", Duration.ofSeconds(5), () -> recorder.messages.size() == 1);
            }
            assertEquals(1, accepted.get());
            // without one: refused during TLS, never upgraded, never handed to the acceptor
            try (WsTransportEngine noCert = client(Optional.of(certPem), false)) {
                MeshworkException e = failure(noCert.dial(mtls.uri(), DialOptions.DEFAULT, new Recorder()));
                assertTrue(Set.of(FailureCode.CERTIFICATE_REJECTED, FailureCode.TLS_HANDSHAKE, FailureCode.CONNECTION_RESET).contains(e.code()),
                        e.code() + ": " + e.getMessage());
            }
            assertEquals(1, accepted.get(), "a client without a certificate never reaches the acceptor");
        }
    }

    @Test
    void serverKeyAndCertificateCanBePemFiles() throws Exception {
        Path[] pair = keyPair("pemserver", "localhost");
        Path key = pkcs8Pem(pair[0], "pemserver");
        WsSettings.TlsSettings pemTls = new WsSettings.TlsSettings(Optional.of(pair[1]), Optional.of(key), "",
                Optional.empty(), "", false, false);
        try (WsTransportEngine pemServer = Fixtures.engine(Fixtures.settings().withTls(pemTls));
                WsTransportEngine c = client(Optional.of(pair[1]), false)) {
            TransportListener pem = Fixtures.listen(pemServer, "wss", x -> new Recorder(true));
            Recorder recorder = new Recorder();
            Connection connection = Fixtures.dial(c, pem.uri(), recorder);
            connection.send(Fixtures.message("pem", 100)).get(5, TimeUnit.SECONDS);
            Await.until("echo with a PEM server key", Duration.ofSeconds(5), () -> recorder.messages.size() == 1);
        }
    }
}
