/**
 * The transport SPI: how bytes of the wire protocol reach another node.
 *
 * <p>A {@link dev.meshwork.api.transport.Transport} is a whiteboard service registered with
 * {@link dev.meshwork.api.transport.Transport#SCHEMES}; the router picks the one whose scheme
 * matches a peer URL. Transports move opaque binary messages (whole, in order) and know nothing of
 * the protocol inside them, routing, authentication or peers.
 *
 * <p>2.0.0: the SPI became byte-oriented ({@code Connection.send(byte[])},
 * {@code ConnectionHandler.onMessage}); in 1.x it carried protobuf frames.
 */
@Export
@Version("2.0.0")
package dev.meshwork.api.transport;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
