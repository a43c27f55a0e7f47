package dev.meshwork.api.transport;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Options of one dial attempt. Immutable.
 *
 * @param connectTimeout   bound on the TCP (and TLS) connect
 * @param handshakeTimeout bound on the protocol upgrade after the connect
 * @param expectedServerName host name to verify in a TLS certificate, when it differs from the URL's
 */
public record DialOptions(Duration connectTimeout, Duration handshakeTimeout, Optional<String> expectedServerName) {

    /** 3 s to connect, 5 s for the upgrade. */
    public static final DialOptions DEFAULT = new DialOptions(Duration.ofSeconds(3), Duration.ofSeconds(5), Optional.empty());

    public DialOptions {
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
        Objects.requireNonNull(expectedServerName, "expectedServerName");
        if (connectTimeout.isNegative() || connectTimeout.isZero() || handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
            throw new IllegalArgumentException("dial timeouts must be positive");
        }
    }

    public DialOptions withConnectTimeout(Duration timeout) {
        return new DialOptions(timeout, handshakeTimeout, expectedServerName);
    }

    public DialOptions withHandshakeTimeout(Duration timeout) {
        return new DialOptions(connectTimeout, timeout, expectedServerName);
    }
}
