/**
 * The transport SPI: how bytes of the wire protocol reach another node.
 *
 * <p>A {@link dev.meshwork.api.transport.Transport} is a whiteboard service registered with
 * {@link dev.meshwork.api.transport.Transport#SCHEMES}; the router picks the one whose scheme
 * matches a peer URL. Transports carry {@link dev.meshwork.api.wire.Frame}s and know nothing of
 * routing, authentication or peers.
 */
@Export
@Version("1.0.0")
package dev.meshwork.api.transport;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
