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
import java.nio.file.Path;
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
            c.send(Fixtures.envelope("tls", 1000)).get(5, TimeUnit.SECONDS);
            Await.until("echo over TLS", Duration.ofSeconds(5), () -> recorder.frames.size() == 1);
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
}
