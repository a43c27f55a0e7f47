package dev.meshwork.api.transport;

import java.net.URI;
import java.util.concurrent.CompletableFuture;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Carries opaque binary messages to and from other nodes over one or more URL schemes.
 *
 * <p>Register implementations as OSGi services with the property {@link #SCHEMES} (a string or
 * string array, e.g. {@code "ws", "wss"}); the router uses every registered transport and picks one
 * per URL by scheme. A third-party bundle adds a transport simply by registering one.
 *
 * <p><b>Threading:</b> all methods are thread-safe and non-blocking. <b>Failure:</b> dial
 * completions fail with a {@link dev.meshwork.api.RetryableException} (refused, reset, timeout,
 * unreachable, interrupted TLS handshake) or a {@link dev.meshwork.api.PermanentException}
 * (malformed URL, certificate rejected, upgrade refused with 4xx, protocol violation).
 */
@ConsumerType
public interface Transport {

    /** Service property: the URL schemes this transport serves (String or String[]). */
    String SCHEMES = "meshwork.transport.schemes";

    /**
     * Opens a connection to {@code uri}.
     *
     * <p>Concurrent dials to the same URL with the same options may share one attempt. Cancelling
     * the returned future aborts the attempt (if no one else shares it). The handler receives the
     * connection's events from the moment the future completes; it is never called for a dial
     * that failed.
     *
     * @param uri     where to connect; its scheme must be one of {@link #SCHEMES}
     * @param options timeouts and limits of this attempt
     * @param handler receives the messages and the close of the new connection
     * @return completes with the open connection, or fails with a typed
     *         {@link dev.meshwork.api.MeshworkException}
     */
    CompletableFuture<Connection> dial(URI uri, DialOptions options, ConnectionHandler handler);

    /**
     * Starts accepting connections at {@code uri} (e.g. {@code ws://127.0.0.1:7400/mesh}).
     *
     * <p>Port 0 picks a free port; {@link TransportListener#uri()} tells which. Each accepted
     * connection is offered to {@code acceptor}, which returns the handler for its events.
     *
     * @return completes once the server socket is bound, or fails with a typed exception
     *         (a port in use is a {@link dev.meshwork.api.PermanentException})
     */
    CompletableFuture<TransportListener> listen(URI uri, ConnectionAcceptor acceptor);
}
