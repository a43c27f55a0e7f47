package dev.meshwork.transport.ws.internal;

import dev.meshwork.transport.ws.internal.WsSettings.TlsSettings;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Locale;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * Builds Netty {@link SslContext}s from the configured PEM or PKCS#12 files.
 *
 * <p>Files are read once at activation, so a missing or unreadable file fails the component's
 * start with the key that names it instead of failing every later handshake.
 */
final class TlsContexts {

    private TlsContexts() {
    }

    /** The server context, or empty when no certificate is configured (then wss listeners are refused). */
    static Optional<SslContext> server(TlsSettings tls) {
        if (tls.certificate().isEmpty()) {
            return Optional.empty();
        }
        Path cert = tls.certificate().get();
        try {
            SslContextBuilder builder;
            if (isKeyStore(cert)) {
                KeyStore ks = load(cert, tls.keyPassword());
                KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(ks, tls.keyPassword().toCharArray());
                builder = SslContextBuilder.forServer(kmf);
            } else {
                Path key = tls.privateKey().orElseThrow(() -> new IllegalArgumentException(
                        "tlsPrivateKey is required when tlsCertificate is a PEM file: " + cert));
                builder = SslContextBuilder.forServer(cert.toFile(), key.toFile(),
                        tls.keyPassword().isEmpty() ? null : tls.keyPassword());
            }
            if (tls.trustStore().isPresent()) {
                builder.trustManager(trust(tls));
                builder.clientAuth(tls.requireClientCertificate() ? ClientAuth.REQUIRE : ClientAuth.OPTIONAL);
            } else if (tls.requireClientCertificate()) {
                throw new IllegalArgumentException("tlsRequireClientCertificate needs tlsTrustStore");
            }
            return Optional.of(builder.build());
        } catch (SSLException | RuntimeException e) {
            throw new IllegalArgumentException("tlsCertificate/tlsPrivateKey: cannot use " + cert + ": " + e.getMessage(), e);
        } catch (Exception e) {
            throw new IllegalArgumentException("tlsCertificate: cannot read " + cert + ": " + e.getMessage(), e);
        }
    }

    /** The client context: verifies servers against the trust store (or the JDK's CAs) unless told not to. */
    static SslContext client(TlsSettings tls) {
        try {
            SslContextBuilder builder = SslContextBuilder.forClient();
            if (tls.insecureSkipVerify()) {
                builder.trustManager(InsecureTrustManagerFactory.INSTANCE);
            } else if (tls.trustStore().isPresent()) {
                builder.trustManager(trust(tls));
            }
            if (tls.certificate().isPresent()) {
                Path cert = tls.certificate().get();
                if (isKeyStore(cert)) {
                    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                    kmf.init(load(cert, tls.keyPassword()), tls.keyPassword().toCharArray());
                    builder.keyManager(kmf);
                } else if (tls.privateKey().isPresent()) {
                    builder.keyManager(cert.toFile(), tls.privateKey().get().toFile(),
                            tls.keyPassword().isEmpty() ? null : tls.keyPassword());
                }
            }
            return builder.build();
        } catch (Exception e) {
            throw new IllegalArgumentException("tlsTrustStore/tlsCertificate: cannot build the client TLS context: " + e.getMessage(), e);
        }
    }

    private static TrustManagerFactory trust(TlsSettings tls) throws Exception {
        Path path = tls.trustStore().get();
        KeyStore ks;
        if (isKeyStore(path) || path.toString().toLowerCase(Locale.ROOT).endsWith(".jks")) {
            ks = load(path, tls.trustStorePassword());
        } else {
            ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            var factory = java.security.cert.CertificateFactory.getInstance("X.509");
            try (InputStream in = Files.newInputStream(path)) {
                int i = 0;
                for (var cert : factory.generateCertificates(in)) {
                    ks.setCertificateEntry("trusted-" + i++, cert);
                }
            }
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        return tmf;
    }

    private static KeyStore load(Path path, String password) throws Exception {
        String name = path.toString().toLowerCase(Locale.ROOT);
        KeyStore ks = KeyStore.getInstance(name.endsWith(".jks") ? "JKS" : "PKCS12");
        try (InputStream in = Files.newInputStream(path)) {
            ks.load(in, password.toCharArray());
        }
        return ks;
    }

    private static boolean isKeyStore(Path path) {
        String name = path.toString().toLowerCase(Locale.ROOT);
        return name.endsWith(".p12") || name.endsWith(".pfx");
    }
}
