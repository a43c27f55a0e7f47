package dev.meshwork.api.transport;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Decides what handles a connection accepted by a {@link TransportListener}.
 *
 * <p><b>Threading:</b> called on the new connection's I/O thread; must not block. Returning
 * {@code null} or throwing closes the connection.
 */
@ConsumerType
@FunctionalInterface
public interface ConnectionAcceptor {

    /** Returns the handler for the events of {@code connection}. */
    ConnectionHandler accept(Connection connection);
}
