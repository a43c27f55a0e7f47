package dev.meshwork.api.transport;

import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * One live link between two nodes carrying opaque binary messages, created by a {@link Transport}.
 *
 * <p>A message is an array of bytes the transport delivers whole, in order, and with its
 * boundaries preserved: one {@link #send} on one side is one
 * {@link ConnectionHandler#onMessage} on the other. The transport does not look inside; framing
 * of the protocol, authentication and encryption are the node core's (since 2.0.0).
 *
 * <p>A connection dies with its socket; the router's logical link survives it. Liveness is the
 * transport's job: a connection from which nothing arrived within the stale threshold is closed
 * with {@link CloseReason.Kind#STALE}.
 *
 * <p>Implemented by transports, including third-party ones.
 *
 * <p><b>Threading:</b> all methods are thread-safe and non-blocking. <b>Back-pressure:</b>
 * {@link #isWritable()} turns false when the outbound buffer passes its high water mark; a
 * sender should then wait for {@link ConnectionHandler#onWritabilityChanged}. Sends are never
 * buffered without bound: a transport may refuse a send when its buffer is full.
 */
@ConsumerType
public interface Connection {

    /** Unique id of this connection within the process, for logs and status. */
    String id();

    /** The URL that was dialed, or the listener's URL for an accepted connection. */
    URI uri();

    /** Whether the remote side dialed us. */
    boolean isInbound();

    InetSocketAddress remoteAddress();

    InetSocketAddress localAddress();

    /**
     * Writes one message.
     *
     * <p>The transport may keep and write {@code message} itself, without copying it: the caller
     * hands the array over and must not modify it afterwards, not even once the returned future
     * completes.
     *
     * @param message the bytes of one message, delivered as one
     *                {@link ConnectionHandler#onMessage} on the other side
     * @return completes when the message was written to the socket; fails with a
     *         {@link dev.meshwork.api.RetryableException} ({@code CLOSED}) if the connection closes
     *         first, or ({@code QUEUE_FULL}) if the transport's bounded buffer is full, or with a
     *         {@link dev.meshwork.api.PermanentException} ({@code PAYLOAD_TOO_LARGE}) if the message
     *         exceeds the transport's size limit
     */
    CompletableFuture<Void> send(byte[] message);

    /** Whether a send now would be buffered below the high water mark. */
    boolean isWritable();

    /** Whether the connection is still open. */
    boolean isOpen();

    /** The smoothed round-trip time measured by the transport's pings, once a pong arrived. */
    Optional<Duration> rtt();

    /** Counters of this connection. */
    ConnectionStats stats();

    /**
     * Closes the connection on purpose; the peer sees the code and reason, and the close event
     * says {@link CloseReason#intentional()} so nothing reconnects automatically.
     *
     * @return completes when the connection is closed
     */
    CompletableFuture<CloseReason> close(int code, String reason);

    /** Completes with the reason once the connection is closed, whoever closed it. */
    CompletableFuture<CloseReason> closeFuture();
}
