package dev.meshwork.transport.ws.internal;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The transport's settings as plain values, built from {@link TransportConfig} or directly by tests.
 *
 * @param tls the TLS settings; {@link TlsSettings#NONE} for no key material
 */
public record WsSettings(int eventLoopThreads, boolean nativeTransport, int maxFrameBytes, Duration pingInterval,
        Duration staleThreshold, Duration connectTimeout, Duration handshakeTimeout, int lowWaterMark, int highWaterMark,
        boolean permessageDeflate, String subprotocol, TlsSettings tls, String version) {

    public WsSettings {
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(subprotocol, "subprotocol");
        if (maxFrameBytes < 64) {
            throw new IllegalArgumentException("maxFrameBytes must be at least 64: " + maxFrameBytes);
        }
        if (pingInterval.isZero() || pingInterval.isNegative() || staleThreshold.compareTo(pingInterval) <= 0) {
            throw new IllegalArgumentException("pingIntervalMillis must be positive and below staleThresholdMillis");
        }
        if (lowWaterMark <= 0 || highWaterMark < lowWaterMark) {
            throw new IllegalArgumentException("writeBufferLowWaterMark must be positive and at most writeBufferHighWaterMark");
        }
    }

    /** Defaults of {@link TransportConfig}, for tests and tools. */
    public static WsSettings defaults() {
        return new WsSettings(0, true, 1 << 20, Duration.ofSeconds(5), Duration.ofSeconds(15), Duration.ofSeconds(3),
                Duration.ofSeconds(5), 64 * 1024, 256 * 1024, false, "meshwork.v1", TlsSettings.NONE, "dev");
    }

    public static WsSettings from(TransportConfig c, String version) {
        TlsSettings tls = new TlsSettings(path(c.tlsCertificate()), path(c.tlsPrivateKey()), c.tlsKeyPassword(),
                path(c.tlsTrustStore()), c.tlsTrustStorePassword(), c.tlsRequireClientCertificate(), c.tlsInsecureSkipVerify());
        return new WsSettings(c.eventLoopThreads(), c.nativeTransport(), c.maxFrameBytes(), Duration.ofMillis(c.pingIntervalMillis()),
                Duration.ofMillis(c.staleThresholdMillis()), Duration.ofMillis(c.connectTimeoutMillis()),
                Duration.ofMillis(c.handshakeTimeoutMillis()), c.writeBufferLowWaterMark(), c.writeBufferHighWaterMark(),
                c.permessageDeflate(), c.subprotocol().trim(), tls, version);
    }

    private static Optional<Path> path(String value) {
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(Path.of(value.trim()));
    }

    public WsSettings withPermessageDeflate(boolean on) {
        return new WsSettings(eventLoopThreads, nativeTransport, maxFrameBytes, pingInterval, staleThreshold, connectTimeout,
                handshakeTimeout, lowWaterMark, highWaterMark, on, subprotocol, tls, version);
    }

    public WsSettings withMaxFrameBytes(int bytes) {
        return new WsSettings(eventLoopThreads, nativeTransport, bytes, pingInterval, staleThreshold, connectTimeout,
                handshakeTimeout, lowWaterMark, highWaterMark, permessageDeflate, subprotocol, tls, version);
    }

    public WsSettings withLiveness(Duration ping, Duration stale) {
        return new WsSettings(eventLoopThreads, nativeTransport, maxFrameBytes, ping, stale, connectTimeout,
                handshakeTimeout, lowWaterMark, highWaterMark, permessageDeflate, subprotocol, tls, version);
    }

    public WsSettings withHandshakeTimeout(Duration timeout) {
        return new WsSettings(eventLoopThreads, nativeTransport, maxFrameBytes, pingInterval, staleThreshold, connectTimeout,
                timeout, lowWaterMark, highWaterMark, permessageDeflate, subprotocol, tls, version);
    }

    public WsSettings withWaterMarks(int low, int high) {
        return new WsSettings(eventLoopThreads, nativeTransport, maxFrameBytes, pingInterval, staleThreshold, connectTimeout,
                handshakeTimeout, low, high, permessageDeflate, subprotocol, tls, version);
    }

    public WsSettings withTls(TlsSettings value) {
        return new WsSettings(eventLoopThreads, nativeTransport, maxFrameBytes, pingInterval, staleThreshold, connectTimeout,
                handshakeTimeout, lowWaterMark, highWaterMark, permessageDeflate, subprotocol, value, version);
    }

    public WsSettings withDeflate(boolean on) {
        return new WsSettings(eventLoopThreads, nativeTransport, maxFrameBytes, pingInterval, staleThreshold, connectTimeout,
                handshakeTimeout, lowWaterMark, highWaterMark, on, subprotocol, tls, version);
    }

    /**
     * TLS key material and trust, all optional.
     *
     * @param certificate PEM chain or PKCS#12 file
     * @param privateKey  PKCS#8 PEM key when {@code certificate} is PEM
     */
    public record TlsSettings(Optional<Path> certificate, Optional<Path> privateKey, String keyPassword,
            Optional<Path> trustStore, String trustStorePassword, boolean requireClientCertificate, boolean insecureSkipVerify) {

        public static final TlsSettings NONE = new TlsSettings(Optional.empty(), Optional.empty(), "", Optional.empty(), "", false, false);
    }
}
