package dev.meshwork.api.transport;

import java.net.URI;
import java.util.concurrent.CompletableFuture;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A bound server socket accepting connections for a {@link Transport}.
 *
 * <p><b>Threading:</b> thread-safe. Closing stops accepting and closes the connections accepted
 * through this listener.
 */
@ConsumerType
public interface TransportListener extends AutoCloseable {

    /** The URL peers dial to reach this listener, with the actual port when 0 was requested. */
    URI uri();

    /** Stops accepting and closes the connections this listener accepted. */
    CompletableFuture<Void> closeAsync();

    /** Closes and waits (bounded) for the close. */
    @Override
    void close();
}
