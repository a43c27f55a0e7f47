package dev.meshwork.api.transport;

import java.time.Duration;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Receives the events of one {@link Connection}.
 *
 * <p><b>Threading:</b> called on the connection's I/O thread, one event at a time and in order.
 * Implementations must not block; hand work that can block to an executor. An exception thrown
 * from a callback is logged and counted by the transport; it does not close the connection.
 */
@ConsumerType
public interface ConnectionHandler {

    /**
     * One message arrived: exactly the bytes of one {@link Connection#send} of the peer. The
     * handler owns the array.
     */
    void onMessage(Connection connection, byte[] message);

    /** The connection's writability changed (see {@link Connection#isWritable()}). */
    default void onWritabilityChanged(Connection connection, boolean writable) {
    }

    /** A new round-trip time sample was measured. */
    default void onRtt(Connection connection, Duration sample) {
    }

    /** The connection closed; called exactly once and last. */
    void onClosed(Connection connection, CloseReason reason);
}
